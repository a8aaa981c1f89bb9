-- attack: require of names with "..", "/" and absolute paths
local H = require "hostile"
return H.adapter(function(page)
  for _, name in ipairs({"../../outside", "sub/../../../outside", H.run_dir .. "/outside", "/../../outside"}) do
    local ok, got = pcall(require, name)
    if ok then H.leak("outside.lua via " .. name, got) end
  end
end)
