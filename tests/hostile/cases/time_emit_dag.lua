-- attack: glean.emit of t = {t, t} nested 30 times, as the page's record
-- expect: page-or-record
local H = require "hostile"
return H.adapter(function(page)
  local t = {}
  for _ = 1, 30 do t = {t, t} end
  return {url = "dag", t = t}
end)
