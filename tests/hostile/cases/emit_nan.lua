-- attack: a record with NaN, infinities and the largest integers (JSON has no NaN)
-- expect: page-or-record
local H = require "hostile"
return H.adapter(function(page)
  return {url = "nan", nan = 0 / 0, inf = math.huge, ninf = -math.huge, big = math.maxinteger, small = math.mininteger}
end)
