-- wrk script: native Viettel Post webhooks for the parcels listed in the file
-- CIVICPOST_BENCH_TRACKING (one tracking number a line). Every body is different (a new
-- status time per request and thread), so none is a byte-for-byte duplicate; statuses cycle
-- through the forward journey, so the ingest worker applies some and keeps the rest as history.
local threads = 0
function setup(thread)
  thread:set("tid", threads)
  threads = threads + 1
end

function init(args)
  numbers = {}
  for line in io.lines(os.getenv("CIVICPOST_BENCH_TRACKING")) do
    if #line > 0 then numbers[#numbers + 1] = line end
  end
  statuses = { 200, 300, 400, 500, 501 }
  base = os.time() - 86400 + tid * 43200
  n = 0
end

function request()
  n = n + 1
  local number = numbers[(n * 7 + tid) % #numbers + 1]
  local status = statuses[n % #statuses + 1]
  -- Vietnam time, as Viettel Post writes it.
  local at = os.date("!%d/%m/%Y %H:%M:%S", base + n + 7 * 3600)
  local body = string.format('{"DATA":{"ORDER_NUMBER":"%s","ORDER_REFERENCE":"","ORDER_STATUSDATE":"%s",' ..
    '"ORDER_STATUS":%d,"STATUS_NAME":"Cập nhật trạng thái",' ..
    '"LOCALION_CURRENTLY":"HCM, Q1, Bưu cục Sài Gòn - HCM - Thành phố Hồ Chí Minh",' ..
    '"NOTE":"wrk %d-%d","MONEY_COLLECTION":0,"MONEY_FEECOD":0,"MONEY_TOTALFEE":26000,' ..
    '"MONEY_TOTAL":26000,"MONEY_TOTALVAT":1926,"EXPECTED_DELIVERY":"1 ngày","PRODUCT_WEIGHT":150,' ..
    '"ORDER_SERVICE":"VCN","ORDER_PAYMENT":4,"DETAIL":[],"VOUCHER_VALUE":0,' ..
    '"EMPLOYEE_NAME":"Phạm Minh Đức","EMPLOYEE_PHONE":"84967299927","IS_RETURNING":false,' ..
    '"POD":{"IMAGES":[]},"REASON_CODE":null,"RECEIVER_FULLNAME":"Nguyễn Văn An"},' ..
    '"TOKEN":"sandbox-viettelpost-webhook"}', number, at, status, tid, n)
  return wrk.format("POST", "/v1/webhooks/viettelpost", { ["Content-Type"] = "application/json" }, body)
end
