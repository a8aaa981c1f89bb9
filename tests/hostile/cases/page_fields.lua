-- attack: the page's own fields: response and _follow replaced, url changed (must stay this page's)
local H = require "hostile"
return H.adapter(function(page)
  page.response = setmetatable({}, {__index = function() while true do end end})
  page._follow = function() while true do end end
  page.url = "http://127.0.0.1:1/p/5.html"
end)
