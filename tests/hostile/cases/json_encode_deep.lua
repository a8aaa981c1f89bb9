-- attack: glean.json.encode, glean.emit and fetch's json option on a table nested 200000 levels deep
local glean = require "glean"
local H = require "hostile"
return H.adapter(function(page)
  local t = {}
  for _ = 1, 200000 do t = {t} end
  pcall(glean.json.encode, t)
  pcall(glean.emit, {t = t})
  pcall(glean.fetch, H.base(page.url) .. "/robots.txt", {json = t})
  pcall(glean.json.decode, ("["):rep(200000))
end)
