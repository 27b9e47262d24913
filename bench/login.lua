-- wrk script: logins with wrong-free credentials spread over many accounts and client addresses, so that the
-- per-account and per-address rate limits never answer instead of the password check.
-- Counts answers by status in each thread; the summary prints successful logins per second.
local accounts = tonumber(os.getenv("BENCH_ACCOUNTS") or "1000")
local password = os.getenv("BENCH_PASSWORD")
local counter = 0
ok, other = 0, 0  -- globals: done() reads them from each thread with thread:get
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  math.randomseed(os.time() + math.floor(os.clock() * 1000000))
end

function request()
  counter = counter + 1
  local body = string.format('{"email":"bench%d@bench.example","password":"%s"}', math.random(0, accounts - 1), password)
  local headers = {
    ["Content-Type"] = "application/json",
    ["X-Licensee"] = "bench",
    ["X-Forwarded-For"] = string.format("198.18.%d.%d", math.random(0, 255), math.random(1, 254)),
  }
  return wrk.format("POST", "/v1/auth/login", headers, body)
end

function response(status, headers, body)
  if status == 200 then ok = ok + 1 else other = other + 1 end
end

function done(summary, latency, requests)
  local total_ok, total_other = 0, 0
  for _, thread in ipairs(threads) do
    total_ok = total_ok + thread:get("ok")
    total_other = total_other + thread:get("other")
  end
  local seconds = summary.duration / 1e6
  io.write(string.format("LOGINS_OK %d\nLOGINS_OTHER %d\nLOGINS_PER_SECOND %.2f\n", total_ok, total_other, total_ok / seconds))
end
