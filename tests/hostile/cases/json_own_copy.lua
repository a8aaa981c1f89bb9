-- attack: glean.json.encode / null / decode and glean.emit replaced in the adapter's copy (must stay its own)
local glean = require "glean"
local H = require "hostile"
return H.adapter(function(page)
  glean.json.encode = function() while true do end end
  glean.json.decode = function() while true do end end
  glean.json.null = {}
  glean.emit = function() while true do end end
  glean.url.resolve = function() return "http://127.0.0.1:1/p/5.html" end
  glean.log.error = function() while true do end end
end)
