-- Step 4's status checks as the page's script makes them: each answer's ticket is
-- sent back with the next check of the same attempt (header X-Status-Ticket).
-- Arguments: a file of status paths, the number of wrk threads, and the pause
-- after each answer in ms (2500 for people waiting; 0 for a flat-out run).
local paths = {}
local tickets = {}
local next_index = 1
local threads_made = 0
local pause = 0

function setup(thread)
  thread:set("offset", threads_made)
  threads_made = threads_made + 1
end

function init(args)
  -- Each wrk thread (a Lua state of its own, with its own tickets) takes its own
  -- share of the attempts, as each person's page checks only its own attempt.
  local threads = tonumber(args[2]) or 1
  local all = {}
  for line in io.lines(args[1]) do all[#all + 1] = line end
  for index, path in ipairs(all) do
    if (index - 1) % threads == (offset or 0) % threads then paths[#paths + 1] = path end
  end
  -- Fewer attempts than threads (the flat-out run has one): share them.
  if #paths == 0 then paths = all end
  pause = tonumber(args[3]) or 0
end

function request()
  local path = paths[next_index]
  next_index = next_index % #paths + 1
  local ticket = tickets[path:match("/authorize/(%d+)/status")]
  if not ticket then return wrk.format("GET", path) end
  -- wrk.format replaces wrk.headers when given headers: copy the cookie over.
  local headers = {}
  for name, value in pairs(wrk.headers) do headers[name] = value end
  headers["X-Status-Ticket"] = ticket
  return wrk.format("GET", path, headers)
end

function response(status, headers, body)
  local ticket = body and body:match('"ticket":%s*"([^"]+)"')
  if ticket then tickets[ticket:match("^(%d+)|")] = ticket end
end

function delay()
  return pause
end
