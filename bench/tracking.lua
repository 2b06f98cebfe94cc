-- wrk script: GET /v1/track/{code} over the codes in CIVICPOST_BENCH_CODES (one a line).
-- CIVICPOST_BENCH_MODE=seq: each thread walks its own half of the list, so no code is read
-- twice (uncached reads); random: any code of the list (they were read once: cached reads).
local threads = 0
function setup(thread)
  thread:set("tid", threads)
  threads = threads + 1
end

function init(args)
  codes = {}
  for line in io.lines(os.getenv("CIVICPOST_BENCH_CODES")) do
    if #line > 0 then codes[#codes + 1] = line end
  end
  random = os.getenv("CIVICPOST_BENCH_MODE") == "random"
  math.randomseed(os.time() + tid)
  n = 0
end

function request()
  local code
  if random then
    code = codes[math.random(#codes)]
  else
    n = n + 1
    code = codes[((n * 2 + tid) - 1) % #codes + 1]
  end
  return wrk.format("GET", "/v1/track/" .. code)
end
