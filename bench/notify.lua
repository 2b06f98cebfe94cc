-- wrk script: the built-in eSMS gateway simulator's send endpoint with the sandbox account,
-- a new RequestId every request (the baseline of bench/notify.sh).
local threads = 0
function setup(thread)
  thread:set("tid", threads)
  threads = threads + 1
end

function init(args)
  n = 0
end

function request()
  n = n + 1
  local body = string.format('{"ApiKey":"sandbox-esms-api-key","SecretKey":"sandbox-esms-secret-key",' ..
    '"Phone":"0912345678","Brandname":"CIVICPOST","SmsType":"2","IsUnicode":"0",' ..
    '"Content":"Ket qua ho so BENCH-N-1 da gui qua VNPost. Ma tra cuu ABCD-2345-XY: http://127.0.0.1:8080/track/ABCD2345XY",' ..
    '"RequestId":"wrk-%d-%d"}', tid, n)
  return wrk.format("POST", "/sim/sms/MainService.svc/json/SendMultipleMessage_V4_post_json/",
    { ["Content-Type"] = "application/json" }, body)
end
