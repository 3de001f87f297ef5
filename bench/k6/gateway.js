// k6 version of bench/gateway.mjs (k6 is not installable on the development
// machines, so the numbers in RESULTS.md come from that script, whose steady
// scenario runs the same open-loop constant arrival rate, timed from when each
// request is due).
//   k6 run -e TOKEN=... -e CHILD=... bench/k6/gateway.js
import http from "k6/http";
import { check } from "k6";

export const options = {
  scenarios: {
    gateway: { executor: "constant-arrival-rate", rate: 1000, timeUnit: "1s", duration: "30s", preAllocatedVUs: 100, exec: "gateway" },
    direct: { executor: "constant-arrival-rate", rate: 1000, timeUnit: "1s", duration: "30s", preAllocatedVUs: 100, exec: "direct", startTime: "35s" },
  },
  thresholds: { "http_req_duration{scenario:gateway}": ["p(99)<30"] },
};

const headers = { Authorization: `Bearer ${__ENV.TOKEN}` };
const path = `/api/v1/children/${__ENV.CHILD}`;

export function gateway() {
  check(http.get(`${__ENV.GATEWAY_URL || "http://127.0.0.1:3000"}${path}`, { headers }), { ok: (r) => r.status === 200 });
}
export function direct() {
  check(http.get(`${__ENV.REGISTRY_URL || "http://127.0.0.1:3001"}${path}`, { headers }), { ok: (r) => r.status === 200 });
}
