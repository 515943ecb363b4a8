-- 2,000 people on step 4: each connection polls one attempt's status, waits 2.5 s
-- after each answer (as the page's script does), and polls again.
local paths = {}
local next_index = 1
local threads_made = 0

function setup(thread)
  thread:set("offset", threads_made)
  threads_made = threads_made + 1
end

function init(args)
  for line in io.lines(args[1]) do paths[#paths + 1] = line end
  -- Each wrk thread starts at its own share of the attempts.
  local threads = tonumber(args[2]) or 1
  next_index = math.floor((offset or 0) * #paths / threads) + 1
end

function request()
  local path = paths[next_index]
  next_index = next_index % #paths + 1
  return wrk.format("GET", path)
end

function delay()
  return 2500
end
