-- wrk script for bench/soak.sh: a fixed request, paced by a per-connection delay so the total
-- rate stays near SOAK_DELAY_MS, and a JSON summary of what came back.
local body = os.getenv("SOAK_BODY")
local auth = os.getenv("SOAK_AUTH")
local path = os.getenv("SOAK_PATH") or "/api/chat"
local delay_ms = tonumber(os.getenv("SOAK_DELAY_MS") or "0")
local expect = tonumber(os.getenv("SOAK_EXPECT") or "200")
local out = os.getenv("SOAK_OUT")
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  unexpected = 0
  wrk.method = body and "POST" or "GET"
  wrk.path = path
  wrk.body = body
  wrk.headers["Content-Type"] = "application/json"
  if auth and auth ~= "" then wrk.headers["Authorization"] = auth end
end

function delay()
  return delay_ms
end

function response(status, headers, body)
  if status ~= expect then unexpected = unexpected + 1 end
end

function done(summary, latency, requests)
  local bad = summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout
  for _, t in ipairs(threads) do bad = bad + t:get("unexpected") end
  local f = io.open(out, "w")
  f:write(string.format('{"requests": %d, "rps": %f, "unexpected": %d}', summary.requests,
    summary.requests / (summary.duration / 1e6), bad))
  f:close()
end
