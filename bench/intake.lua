-- wrk script: POST /v1/deliveries with a new dossier code every request.
local threads = 0
function setup(thread)
  thread:set("tid", threads)
  threads = threads + 1
end

function init(args)
  key = os.getenv("CIVICPOST_BENCH_KEY")
  run = os.getenv("CIVICPOST_BENCH_RUN") or "0"
  n = 0
end

local template = '{"dossier_code":"BENCH-%s-%d-%d","procedure_name":"Cấp giấy phép xây dựng",' ..
  '"recipient":{"name":"Nguyễn Văn An","phone":"0912345678","email":"an@example.vn",' ..
  '"address":{"line":"Số 12 ngõ 3 Đội Cấn","ward_code":"00004"}},"parcel":{"weight_grams":150}}'

function request()
  n = n + 1
  local body = string.format(template, run, tid, n)
  return wrk.format("POST", "/v1/deliveries",
    { ["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. key }, body)
end
