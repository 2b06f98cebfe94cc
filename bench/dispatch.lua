-- wrk script: the Viettel Post simulator's createOrder with a new ORDER_NUMBER every request
-- (the baseline of bench/dispatch.sh), sender and receiver in the ward whose simulator ids
-- CIVICPOST_BENCH_PROVINCE / _DISTRICT / _WARD give.
local threads = 0
function setup(thread)
  thread:set("tid", threads)
  threads = threads + 1
end

function init(args)
  token = os.getenv("CIVICPOST_BENCH_TOKEN")
  province = tonumber(os.getenv("CIVICPOST_BENCH_PROVINCE"))
  district = tonumber(os.getenv("CIVICPOST_BENCH_DISTRICT") or "0")
  ward = tonumber(os.getenv("CIVICPOST_BENCH_WARD"))
  n = 0
end

function request()
  n = n + 1
  local body = string.format('{"ORDER_NUMBER":"wrk-%d-%d","GROUPADDRESS_ID":0,"CUS_ID":0,' ..
    '"SENDER_FULLNAME":"A","SENDER_PHONE":"0243825123","SENDER_ADDRESS":"1 Hoàng Hoa Thám",' ..
    '"SENDER_PROVINCE":%d,"SENDER_DISTRICT":%d,"SENDER_WARD":%d,' ..
    '"RECEIVER_FULLNAME":"B","RECEIVER_PHONE":"0912345678","RECEIVER_ADDRESS":"12 ngõ 3",' ..
    '"RECEIVER_PROVINCE":%d,"RECEIVER_DISTRICT":%d,"RECEIVER_WARD":%d,' ..
    '"PRODUCT_NAME":"Kết quả TTHC","PRODUCT_QUANTITY":1,"PRODUCT_PRICE":0,"PRODUCT_WEIGHT":150,' ..
    '"PRODUCT_TYPE":"HH","ORDER_PAYMENT":4,"ORDER_SERVICE":"VCN","MONEY_COLLECTION":0}',
    tid, n, province, district, ward, province, district, ward)
  return wrk.format("POST", "/sim/viettelpost/v2/order/createOrder",
    { ["Content-Type"] = "application/json", ["Token"] = token }, body)
end
