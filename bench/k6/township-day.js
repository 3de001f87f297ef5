// A township's working day through the gateway, and an import spike beside it (issue 20.7).
// k6 is not installable on the development machines: the figures in RESULTS.md come from
// the node scripts; this is for the staging environment.
//
//   k6 run -e GATEWAY_URL=https://shouhu.example.gov.cn -e ISSUER_URL=https://sso.example.gov.cn/realms/shouhu \
//          -e PASSWORD=... -e REGISTER=./samples/township-register.xlsx bench/k6/township-day.js
//
// Staff sign in (password grant of the shouhu-web client), search the township's children,
// read a contact card, record a home visit, look at what is due, and open the dashboards.
// The import spike uploads a township register every 20 s while the day goes on.
import http from "k6/http";
import { check, group, sleep } from "k6";
import { SharedArray } from "k6/data";

const GATEWAY = __ENV.GATEWAY_URL || "http://127.0.0.1:3000";
const ISSUER = __ENV.ISSUER_URL || "http://127.0.0.1:8081/realms/shouhu";
const PASSWORD = __ENV.PASSWORD || "Shouhu@2026";
// Who works in a township on a normal day, by how many of them there are.
const STAFF = new SharedArray("staff", () => [
  "changling.director",
  "changling.director",
  "changling.director",
  "changling.teacher",
  "changling.teacher",
  "changling.supervisor",
  "county.admin",
]);
const register = __ENV.REGISTER ? open(__ENV.REGISTER, "b") : null;

export const options = {
  scenarios: {
    township_day: {
      executor: "ramping-arrival-rate",
      startRate: 5,
      timeUnit: "1s",
      preAllocatedVUs: 50,
      maxVUs: 200,
      stages: [
        { target: 20, duration: "2m" },
        { target: 20, duration: "6m" },
        { target: 0, duration: "1m" },
      ],
      exec: "townshipDay",
    },
    import_spike: { executor: "constant-arrival-rate", rate: 1, timeUnit: "20s", duration: "8m", preAllocatedVUs: 2, startTime: "1m", exec: "importSpike" },
  },
  thresholds: {
    "http_req_failed{scenario:township_day}": ["rate<0.01"],
    "http_req_duration{scenario:township_day,kind:read}": ["p(95)<200", "p(99)<500"],
    "http_req_duration{scenario:township_day,kind:write}": ["p(95)<400", "p(99)<1000"],
    "http_req_duration{scenario:import_spike}": ["p(95)<3000"],
    checks: ["rate>0.99"],
  },
};

function signIn(username) {
  const res = http.post(
    `${ISSUER}/protocol/openid-connect/token`,
    { grant_type: "password", client_id: "shouhu-web", username, password: PASSWORD },
    { tags: { kind: "signin" } },
  );
  check(res, { "signed in": (r) => r.status === 200 });
  return { Authorization: `Bearer ${res.json("access_token")}` };
}

const get = (path, headers) => http.get(`${GATEWAY}${path}`, { headers, tags: { kind: "read" } });

export function townshipDay() {
  const user = STAFF[Math.floor(Math.random() * STAFF.length)];
  const headers = signIn(user);
  let childId = null;
  group("search and read", () => {
    const list = get("/api/v1/children?limit=20", headers);
    check(list, { "children listed": (r) => r.status === 200 });
    const items = list.status === 200 ? list.json("items") : [];
    if (items && items.length) {
      childId = items[Math.floor(Math.random() * items.length)].id;
      check(get(`/api/v1/children/${childId}/contact-card`, headers), { "card read": (r) => r.status === 200 });
    }
    check(get(`/api/v1/children?q=${encodeURIComponent("李")}&limit=20`, headers), { "search answered": (r) => r.status === 200 });
  });
  sleep(1);
  if (childId && user !== "county.admin") {
    group("record a visit", () => {
      const today = new Date(Date.now() + 8 * 3600_000).toISOString().slice(0, 10);
      const body = JSON.stringify({ childId, kind: "home_visit", date: today, findings: { mood: "开朗", study: "作业按时完成" } });
      const res = http.post(`${GATEWAY}/api/v1/visit-records`, body, { headers: { ...headers, "content-type": "application/json" }, tags: { kind: "write" } });
      // A teacher records only for the children paired with them: 404 elsewhere is the rule, not a fault.
      check(res, { "visit recorded or not theirs": (r) => r.status === 201 || r.status === 404 });
    });
  }
  group("what is due", () => {
    check(get("/api/v1/visit-items?view=due_this_week", headers), { "due list": (r) => r.status === 200 });
    check(get("/api/v1/inbox?unread=true", headers), { inbox: (r) => r.status === 200 });
  });
  if (user === "changling.supervisor" || user === "county.admin") {
    group("dashboards", () => {
      check(get("/api/v1/reports/overview", headers), { overview: (r) => r.status === 200 });
      check(get("/api/v1/reports/supervision?orgUnit=360999101", headers), { supervision: (r) => r.status === 200 });
    });
  }
  sleep(2);
}

export function importSpike() {
  if (!register) return;
  const headers = signIn("changling.supervisor");
  const res = http.post(
    `${GATEWAY}/api/v1/imports`,
    { file: http.file(register, "register.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet") },
    { headers },
  );
  check(res, { "import accepted": (r) => r.status === 202 });
}
