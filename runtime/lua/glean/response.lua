-- glean.response — what glean.fetch and a session's fetch return for a
-- response the engine delivered: the response, or on a transport error
-- nil, message, kind (the response closed, since the caller never sees it).
local response = {}

function response.results(resp)
  if resp.error then
    local message, kind = resp.error, resp.error_kind
    resp:close()
    return nil, message, kind
  end
  return resp
end

return response
