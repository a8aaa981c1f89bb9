-- attack: the metatables of responses, documents, nodes, engines: getmetatable, or a table through __index / __gc ...
local glean = require "glean"
local H = require "hostile"
return H.adapter(function(page)
  local values = {page.response, page:doc(), page:select_one("h1"), glean.current_engine(), glean.json.null,
    glean.frontier({}), glean.html("<p>x</p>")}
  for i, v in ipairs(values) do
    local mt = getmetatable(v)
    if mt then H.escaped("the metatable of value " .. i .. ": " .. tostring(mt)) end
    for _, k in ipairs({"__index", "__gc", "__close", "__metatable"}) do
      local ok, x = pcall(function() return v[k] end)
      if ok and type(x) == "table" then H.escaped("value " .. i .. "." .. k .. " is a table") end
    end
  end
end)
