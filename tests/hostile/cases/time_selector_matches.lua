-- attack: node:matches / closest with heavy :has() on every element of a large document
local glean = require "glean"
local H = require "hostile"
return H.adapter(function(page)
  local doc = glean.html("<div>" .. ("<i></i>"):rep(3000) .. "</div>")
  while true do
    for _, node in ipairs(doc:select("i")) do node:matches(":has(~ i ~ i ~ b)"); node:closest(":has(~ b)") end
  end
end)
