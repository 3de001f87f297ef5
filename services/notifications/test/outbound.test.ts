import { createServer, type Server } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isPublicAddress, publicOnlyLookup, webhookUrlProblem } from "../src/channels/outbound.js";
import { wecomChannel } from "../src/channels/robots.js";

// Outbound webhooks (office robots): only the providers' hosts, public addresses, no redirects.
let internal: Server;
let redirector: Server;
let internalHits = 0;
let internalPort: number;
let redirectPort: number;

const listen = (s: Server) => new Promise<number>((r) => s.listen(0, "127.0.0.1", () => r((s.address() as { port: number }).port)));

beforeAll(async () => {
  internal = createServer((_req, res) => {
    internalHits++;
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ errcode: 0 }));
  });
  internalPort = await listen(internal);
  redirector = createServer((_req, res) => res.writeHead(307, { location: `http://127.0.0.1:${internalPort}/admin` }).end());
  redirectPort = await listen(redirector);
});
afterAll(async () => {
  await new Promise((r) => internal.close(r));
  await new Promise((r) => redirector.close(r));
});

const message = (address: string) => ({
  id: "m1",
  channel: "wecom" as const,
  address,
  recipientName: null,
  template: "t",
  title: "标题",
  body: "正文",
  vars: {},
});

describe("outbound webhook rules", () => {
  it("knows which addresses are public", () => {
    for (const a of [
      "127.0.0.1",
      "10.1.2.3",
      "172.20.0.5",
      "192.168.1.1",
      "169.254.169.254",
      "100.64.0.1",
      "0.0.0.0",
      "::1",
      "fe80::1",
      "fd00::1",
      "::ffff:127.0.0.1",
      "::ffff:10.0.0.1",
      "224.0.0.1",
      "not an ip",
    ]) {
      expect(isPublicAddress(a), a).toBe(false);
    }
    for (const a of ["101.226.4.6", "203.119.169.1", "2408:8000::1", "::ffff:101.226.4.6"]) expect(isPublicAddress(a), a).toBe(true);
  });

  it("accepts only the provider's HTTPS host, or an allowlisted test host", () => {
    expect(webhookUrlProblem("wecom", "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=1")).toBeNull();
    expect(webhookUrlProblem("dingtalk", "https://oapi.dingtalk.com/robot/send?access_token=1")).toBeNull();
    expect(webhookUrlProblem("wecom", "http://127.0.0.1:9/x")).toMatch(/企业微信/);
    expect(webhookUrlProblem("wecom", "http://127.0.0.1:9/x", ["127.0.0.1"])).toBeNull();
    expect(webhookUrlProblem("wecom", "file:///etc/passwd", ["127.0.0.1"])).toMatch(/企业微信/);
  });

  it("a name that resolves to a private or loopback address is refused at connect time", async () => {
    const lookup = publicOnlyLookup();
    const err = await new Promise<Error | null>((resolve) => lookup("localhost", {}, (e) => resolve(e)));
    expect(err?.message).toMatch(/拒绝连接内部地址/);
    const allowed = await new Promise<string>((resolve, reject) =>
      publicOnlyLookup(["localhost"])("localhost", {}, (e, address) => (e ? reject(e) : resolve(address as string))),
    );
    expect(["127.0.0.1", "::1"]).toContain(allowed);
  });

  it("a stored URL pointing inside the deployment is not called, and the failure is permanent", async () => {
    // As if a row had been written before the rule (or straight into the database).
    await expect(wecomChannel().send(message(`http://127.0.0.1:${internalPort}/admin`))).rejects.toMatchObject({ name: "ChannelError", permanent: true });
    expect(internalHits).toBe(0);
  });

  it("never follows a redirect, even from an allowed host", async () => {
    const channel = wecomChannel({ allowedHosts: ["127.0.0.1"] });
    await expect(channel.send(message(`http://127.0.0.1:${redirectPort}/hook`))).rejects.toMatchObject({
      permanent: true,
      message: expect.stringContaining("跳转"),
    });
    expect(internalHits).toBe(0);
  });
});
