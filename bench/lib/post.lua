-- wrk script for the Gatehouse benchmark: POST a small non-streaming chat body.
-- Authorization comes from the environment variable BENCH_AUTH (unset or empty: none);
-- BENCH_PATH and BENCH_BODY override the path and the body (used for warm-up of the streaming path).
-- At the end it prints one line "BENCHJSON {...}" with the figures run_wrk.py reads.
wrk.method = "POST"
wrk.path = os.getenv("BENCH_PATH") or "/api/chat"
wrk.body = os.getenv("BENCH_BODY")
if wrk.body == nil or wrk.body == "" then
  wrk.body = '{"model":"llama3.2:3b","messages":[{"role":"user","content":"Why is the sky blue?"}],"stream":false}'
end
wrk.headers["Content-Type"] = "application/json"
local auth = os.getenv("BENCH_AUTH")
if auth ~= nil and auth ~= "" then
  wrk.headers["Authorization"] = auth
end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCHJSON {"requests":%d,"duration_us":%d,"bytes":%d,' ..
    '"err_connect":%d,"err_read":%d,"err_write":%d,"err_status":%d,"err_timeout":%d,' ..
    '"lat_mean_us":%.2f,"lat_max_us":%.2f,"p50_us":%.2f,"p90_us":%.2f,"p99_us":%.2f,"p999_us":%.2f}\n',
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency.mean, latency.max,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency:percentile(99.9)))
end
