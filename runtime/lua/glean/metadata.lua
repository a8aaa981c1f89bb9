-- glean.metadata — what a page says about itself beside its text: its
-- <meta> tags (doc:meta()) and its JSON-LD blocks (doc:json_ld()), added
-- to every Document's methods by glean.init. What an adapter makes of
-- them (og:title before name=title, or after) is the adapter's choice.
local metadata = {}

-- A <meta>'s attribute value split into its keys: property and itemprop
-- may hold several, space separated (RDFa, microdata).
local function keys_of(value, lower)
  local out = {}
  if value then
    for key in value:gmatch("[^ \t\n\f\r]+") do out[#out + 1] = lower and key:lower() or key end
  end
  return out
end

-- The attribute that names a meta, the table it goes in, and whether its
-- keys are compared case-insensitively (HTML says so for name and
-- http-equiv; Open Graph properties and itemprops are case-sensitive).
local KINDS = {
  {"name", "name", true},
  {"property", "property", false},
  {"itemprop", "itemprop", false},
  {"http-equiv", "http_equiv", true},
}

-- doc:meta() -> {name = {}, property = {}, itemprop = {}, http_equiv = {},
-- all = {name = {}, ...}}: each key's content (the first, in document
-- order), and under all each key's contents as a list (og:image,
-- article:tag repeat). name and http-equiv keys are lower-cased. Metas
-- without a content attribute are left out; contents are as the parser
-- gave them (entities decoded once: glean.text.unescape for a second).
function metadata.meta(doc)
  local out, all = {}, {}
  for _, kind in ipairs(KINDS) do
    out[kind[2]], all[kind[2]] = {}, {}
  end
  out.all = all
  for _, m in ipairs(doc:select("meta[content]")) do
    local content = m:attr("content")
    for _, kind in ipairs(KINDS) do
      local attr, field, lower = kind[1], kind[2], kind[3]
      for _, key in ipairs(keys_of(m:attr(attr), lower)) do
        local list = all[field][key]
        if not list then
          list = {}
          all[field][key] = list
          out[field][key] = content
        end
        list[#list + 1] = content
      end
    end
  end
  return out
end

-- s without white space at its ends (in linear time, whatever the page).
local function trim(s)
  local first = s:find("%S")
  if not first then return "" end
  return s:sub(first, s:match(".*()%S"))
end

-- What pages wrap JSON in, at its start and at its end: an HTML comment, a
-- CDATA section (its markers alone or behind // or /* */), a semicolon.
local OPENERS = {"^<!%-%-", "^/[/*]%s*<!%[CDATA%[%s*%*?/?", "^<!%[CDATA%["}
local CLOSERS = {"-->", "]]>*/", "]]>", "//", "/*", ";"}

-- A block's text without its wrappers.
local function unwrap(text)
  local s, changed = trim(text), true
  while changed do
    changed = false
    for _, opener in ipairs(OPENERS) do
      local rest = s:match(opener .. "()")
      if rest then s, changed = trim(s:sub(rest)), true end
    end
    for _, closer in ipairs(CLOSERS) do
      if #s >= #closer and s:sub(-#closer) == closer then s, changed = trim(s:sub(1, -#closer - 1)), true end
    end
  end
  return s
end

-- The JSON values written one after the other in s ({...} {...}, or
-- {...},{...} without brackets around them), or nil if s is not so made.
local function split_values(s)
  local out, i, n = {}, 1, #s
  while i <= n do
    local open = s:match("^[%s,]*()[{%[]", i)
    if not open then
      if s:find("^[%s,]*$", i) then break end
      return nil
    end
    local depth, j = 0, open
    while true do
      j = s:find('[{}%[%]"]', j)
      if not j then return nil end
      local c = s:sub(j, j)
      if c == '"' then
        repeat
          j = s:find('["\\]', j + 1)
          if not j then return nil end
          local escaped = s:sub(j, j) == "\\"
          if escaped then j = j + 1 end
        until not escaped
      elseif c == "{" or c == "[" then
        depth = depth + 1
      else
        depth = depth - 1
        if depth == 0 then break end
      end
      j = j + 1
    end
    out[#out + 1] = s:sub(open, j)
    i = j + 1
  end
  return out
end

-- The decoded values of one block, or nil and why not.
local function decode_block(json, text)
  local s = unwrap(text)
  if s == "" then return nil, "empty" end
  local ok, value = pcall(json.decode, s)
  if ok then return {value} end
  local parts = split_values(s)
  if not parts or #parts < 2 then return nil, value end
  local values = {}
  for k, part in ipairs(parts) do
    local fine, v = pcall(json.decode, part)
    if not fine then return nil, ("value %d: %s"):format(k, v) end
    values[k] = v
  end
  return values
end

-- The objects a value holds at its top: an array's items, a @graph's.
local function gather(value, out)
  if type(value) ~= "table" then return end
  if #value > 0 then
    for _, item in ipairs(value) do gather(item, out) end
  elseif value["@graph"] ~= nil then
    if value["@type"] ~= nil then out[#out + 1] = value end
    gather(value["@graph"], out)
  elseif next(value) ~= nil then
    out[#out + 1] = value
  end
end

-- A type as compared: without a schema.org prefix, lower case.
local function bare_type(t)
  return (t:gsub("^https?://schema%.org/", ""):gsub("^schema:", ""):lower())
end

local function has_type(object, wanted)
  local t = object["@type"]
  if type(t) == "string" then t = {t} end
  if type(t) ~= "table" then return false end
  for _, name in ipairs(t) do
    if type(name) == "string" and wanted[bare_type(name)] then return true end
  end
  return false
end

-- doc:json_ld([opts]) -> objects, problems. objects: the objects of the
-- page's <script type="application/ld+json"> blocks in document order,
-- arrays and @graph lists opened (nested objects stay where they are).
-- opts.type (a name or a list of names): only objects one of whose @type
-- is one of them ("NewsArticle", "https://schema.org/NewsArticle" and
-- "newsarticle" are the same). problems: a list of {block = N, error =
-- why} for the blocks that are not JSON, which are left out.
function metadata.json_ld(doc, opts)
  if opts ~= nil and type(opts) ~= "table" then
    error(("bad argument #1 to 'json_ld' (table expected, got %s)"):format(type(opts)), 2)
  end
  local wanted
  local types = opts and opts.type
  if types ~= nil then
    if type(types) == "string" then types = {types} end
    if type(types) ~= "table" then
      error(("bad option 'type' to 'json_ld' (string or list of strings expected, got %s)"):format(type(types)), 2)
    end
    wanted = {}
    for i, t in ipairs(types) do
      if type(t) ~= "string" then error(("bad option 'type' to 'json_ld' (type[%d] is a %s)"):format(i, type(t)), 2) end
      wanted[bare_type(t)] = true
    end
  end
  local json = metadata.json
  local objects, problems, block = {}, {}, 0
  for _, script in ipairs(doc:select("script[type]")) do
    if script:attr("type"):lower():match("^%s*(.-)%s*$") == "application/ld+json" then
      block = block + 1
      local values, err = decode_block(json, script:raw_text())
      if values then
        for _, v in ipairs(values) do gather(v, objects) end
      else
        problems[#problems + 1] = {block = block, error = err}
      end
    end
  end
  if wanted then
    local kept = {}
    for _, o in ipairs(objects) do
      if has_type(o, wanted) then kept[#kept + 1] = o end
    end
    objects = kept
  end
  return objects, problems
end

-- Adds doc:meta() and doc:json_ld() to the Documents of the glean library
-- table given (whose json decodes the blocks).
function metadata.install(glean, document_methods)
  metadata.json = glean.json
  document_methods.meta = metadata.meta
  document_methods.json_ld = metadata.json_ld
end

return metadata
