-- attack: pcall(string.gsub, "a", "a", function() glean.fetch(u) end): a fetch that cannot yield leaves its waiter behind
local glean = require "glean"
local H = require "hostile"
return H.adapter(function(page)
  local base = H.base(page.url)
  pcall(string.gsub, "a", "a", function() glean.fetch(base .. "/slow/200") end)
  pcall(table.sort, {1, 2, 3}, function() glean.fetch(base .. "/slow/100") return false end)
  local resp = glean.fetch(base .. "/slow/1000")
  if resp and resp.url ~= base .. "/slow/1000" then H.escaped("got another fetch's response: " .. resp.url) end
end)
