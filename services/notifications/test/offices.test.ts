import { describe, expect } from "vitest";
import { quietHoursAt } from "../src/data/office-settings.js";
import { earliestSend, parseQuietHours } from "../src/domain/quiet-hours.js";
import { notificationsTest } from "./fixtures.js";

const fallback = parseQuietHours("21:00-08:00");

/** The notifications API (QUIET_HOURS at its default, 21:00-08:00) on the file's own database and issuer. */
const test = notificationsTest("notify_offices").extend("svc", { scope: "file" }, async ({ notifications: n }) => ({
  prisma: n.prisma,
  call: async (user: string, method: "GET" | "PUT" | "DELETE", url: string, payload?: object) =>
    n.app.inject({ method, url: `/api/v1/notifications/offices/${url}`, headers: await n.issuer.as(user), ...(payload ? { payload } : {}) }),
}));

describe("通知设置: an office's quiet hours and robots", () => {
  test("a township takes the county's quiet hours until it sets its own, and back again", async ({ svc }) => {
    const view = async (code: string) => (await svc.call("county.admin", "GET", code)).json();
    expect(await view("360999101")).toMatchObject({ quietHours: null, effective: { quietHours: "21:00-08:00", from: "default" }, channels: [] });

    const county = await svc.call("county.admin", "PUT", "360999/quiet-hours", { quietHours: "20:30-07:30" });
    expect(county.statusCode).toBe(200);
    expect(county.json()).toMatchObject({ quietHours: "20:30-07:30", effective: { from: "office" } });
    expect(await view("360999101")).toMatchObject({ quietHours: null, effective: { quietHours: "20:30-07:30", from: "county" } });

    const own = await svc.call("changling.supervisor", "PUT", "360999101/quiet-hours", { quietHours: "22:00-06:00" });
    expect(own.statusCode).toBe(200);
    expect(own.json()).toMatchObject({ quietHours: "22:00-06:00", effective: { quietHours: "22:00-06:00", from: "office" } });
    expect(await svc.prisma.officeSetting.findUnique({ where: { orgUnit: "360999101" } })).toMatchObject({ updatedBy: "changling.supervisor" });

    // Which hours hold for a message about a child in a village: the township's, else the county's.
    expect(await quietHoursAt(svc.prisma, "360999101201", fallback)).toEqual(parseQuietHours("22:00-06:00"));
    expect(await quietHoursAt(svc.prisma, "360999102201", fallback)).toEqual(parseQuietHours("20:30-07:30"));
    const at2130 = new Date("2026-11-22T13:30:00Z"); // 21:30 China: quiet by the county, not by 长岭乡
    expect(earliestSend(at2130, await quietHoursAt(svc.prisma, "360999101201", fallback), true)).toEqual(at2130);
    expect(earliestSend(at2130, await quietHoursAt(svc.prisma, "360999102201", fallback), true)).toEqual(new Date("2026-11-22T23:30:00Z"));

    const reset = await svc.call("changling.supervisor", "PUT", "360999101/quiet-hours", { quietHours: null });
    expect(reset.json()).toMatchObject({ quietHours: null, effective: { quietHours: "20:30-07:30", from: "county" } });
  });

  test("a bad time, a village, another township or a role without the office is refused, and nothing changes", async ({ svc }) => {
    for (const quietHours of ["night", "25:00-08:00", "21:00", "21:60-08:00", 2100]) {
      const res = await svc.call("county.admin", "PUT", "360999103/quiet-hours", { quietHours });
      expect(res.statusCode, String(quietHours)).toBe(400);
      expect(res.json().error.details[0].field).toBe("quietHours");
    }
    const bad = await svc.call("county.admin", "PUT", "360999103/quiet-hours", { quietHours: "night" });
    expect(bad.json().error.details[0].message).toBe("免打扰时段应为 HH:MM-HH:MM（北京时间），如 21:00-08:00");
    expect((await svc.call("county.admin", "PUT", "360999103201/quiet-hours", { quietHours: "21:00-08:00" })).statusCode).toBe(400);
    expect((await svc.call("changling.supervisor", "PUT", "360999102/quiet-hours", { quietHours: "21:00-08:00" })).statusCode).toBe(403);
    expect((await svc.call("changling.supervisor", "GET", "360999102")).statusCode).toBe(403);
    expect((await svc.call("changling.director", "GET", "360999101")).statusCode).toBe(403);
    expect((await svc.call("changling.teacher", "PUT", "360999101/quiet-hours", { quietHours: "21:00-08:00" })).statusCode).toBe(403);
    expect(await svc.prisma.officeSetting.findUnique({ where: { orgUnit: "360999103" } })).toBeNull();
  });

  test("robots are shown by host only (their URL carries the key) and can be removed", async ({ svc }) => {
    const url = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=secret-robot-key";
    expect((await svc.call("changling.supervisor", "PUT", "360999101/wecom", { url })).statusCode).toBe(200);
    const ding = { url: "https://oapi.dingtalk.com/robot/send?access_token=tok", secret: "SEC123" };
    expect((await svc.call("changling.supervisor", "PUT", "360999101/dingtalk", ding)).statusCode).toBe(200);
    const view = await svc.call("changling.supervisor", "GET", "360999101");
    expect(view.json().channels).toEqual([
      { kind: "dingtalk", host: "oapi.dingtalk.com", signed: true, updatedAt: expect.any(String) },
      { kind: "wecom", host: "qyapi.weixin.qq.com", signed: false, updatedAt: expect.any(String) },
    ]);
    expect(view.body).not.toContain("secret-robot-key");
    expect(view.body).not.toContain("SEC123");

    expect((await svc.call("changling.supervisor", "DELETE", "360999101/wecom")).statusCode).toBe(204);
    expect((await svc.call("changling.supervisor", "DELETE", "360999101/wecom")).statusCode).toBe(404);
    expect((await svc.call("shimen.supervisor", "DELETE", "360999101/dingtalk")).statusCode).toBe(403);
    expect((await svc.call("changling.supervisor", "GET", "360999101")).json().channels.map((c: { kind: string }) => c.kind)).toEqual(["dingtalk"]);
  });
});
