import { afterAll, beforeAll, describe, expect, it } from "vitest";
import sharp from "sharp";
import { childBody } from "../../../services/registry/test/harness.js";
import { axeSerious, canRun, choose, clickUntil, shot, startStack, type Stack } from "./stack.js";

/**
 * 附件 on a child's page (issue 21.1) through the real gateway, registry and embedded S3 server:
 * a supervisor uploads a consent form and a photo with GPS in its EXIF, sees the thumbnail,
 * downloads under the original name, is refused a program renamed .jpg, deletes; every read is
 * in the audit trail with the child's id. A village director's phone view, and a photo added to a
 * home visit from the phone's camera (the visits service).
 */
let stack: Stack;
let childId: string;
const phone = { width: 390, height: 844 };
const pdf = Buffer.concat([Buffer.from("%PDF-1.4\n"), Buffer.alloc(30_000, 0x20), Buffer.from("\n%%EOF\n")]);

beforeAll(async () => {
  if (!canRun) return;
  stack = await startStack({ visits: true });
  const res = await stack.api("county.admin", "POST", "/api/v1/children", childBody({ seq: 60, name: "周小雨" }));
  if (res.status !== 201) throw new Error(`register: ${res.status} ${await res.text()}`);
  childId = ((await res.json()) as { id: string }).id;
}, 240_000);

afterAll(async () => {
  await stack?.stop();
});

describe.skipIf(!canRun)("附件", () => {
  it("uploads, shows thumbnails, downloads, refuses a disguised file, deletes — every read audited", async () => {
    const photo = await sharp({ create: { width: 1200, height: 900, channels: 3, background: "#5b8c5a" } })
      .jpeg()
      .withExif({ IFD0: { Make: "PhoneCo" }, IFD3: { GPSLatitudeRef: "N", GPSLatitude: "28/1 12/1 30/1" } })
      .toBuffer();
    const page = await stack.open("changling.supervisor", `/children/${childId}`);
    await page.getByRole("tab", { name: "附件" }).click();
    await expect.poll(() => page.getByText("暂无附件").count()).toBe(1);

    await choose(page, page.getByRole("combobox", { name: "附件类别" }), "知情同意书");
    await page.getByTestId("attachment-file").setInputFiles({ name: "知情同意书.pdf", mimeType: "application/pdf", buffer: pdf });
    await expect.poll(() => page.getByTestId("attachment").count()).toBe(1);

    await choose(page, page.getByRole("combobox", { name: "附件类别" }), "照片");
    await page.getByTestId("attachment-camera").setInputFiles({ name: "家访.jpg", mimeType: "image/jpeg", buffer: photo });
    await expect.poll(() => page.getByTestId("attachment").count()).toBe(2);
    await expect.poll(() => page.locator("img[alt='家访.jpg']").count()).toBe(1);

    // A Windows program named .jpg: the bytes decide, the message names why.
    const exe = Buffer.concat([
      Buffer.from("MZ"),
      Buffer.alloc(0x3a),
      Buffer.from([0x80, 0, 0, 0]),
      Buffer.alloc(0x40),
      Buffer.from("PE\0\0"),
      Buffer.alloc(4000),
    ]);
    await page.getByTestId("attachment-camera").setInputFiles({ name: "照片.jpg", mimeType: "image/jpeg", buffer: exe });
    await expect.poll(() => page.getByText(/文件类型不符/).count()).toBe(1);
    expect(await page.getByTestId("attachment").count()).toBe(2);
    await shot(page, "child-attachments-desktop");
    expect(await axeSerious(page)).toEqual([]);

    const [download] = await Promise.all([page.waitForEvent("download"), page.getByRole("button", { name: "下载 家访.jpg" }).click()]);
    expect(download.suggestedFilename()).toBe("家访.jpg");
    const saved = await sharp(await download.path()).metadata();
    expect(saved.exif).toBeUndefined();

    await page.getByRole("button", { name: "删除 知情同意书.pdf" }).click();
    await page
      .locator(".ant-popconfirm")
      .last()
      .getByRole("button", { name: /删\s*除/ })
      .click();
    await expect.poll(() => page.getByTestId("attachment").count()).toBe(1);
    await page.context().close();

    // The downloads and thumbnails are in the audit trail with the child's id.
    const audit = await stack.until(
      "audit of attachment reads",
      async () => (await (await stack.api("county.admin", "GET", `/api/v1/audit?childId=${childId}&limit=100`)).json()) as { items: { action: string }[] },
      (a) => a.items.filter((i) => i.action === "attachment-read").length >= 2,
    );
    expect(audit.items.map((i) => i.action)).toEqual(expect.arrayContaining(["attachment-upload", "attachment-list", "attachment-read", "attachment-delete"]));
  }, 120_000);

  it("a village director on a phone: the child's 附件, and a photo of a home visit", async () => {
    // The visit, once the visits service has the child (registry → visits event).
    await stack.until(
      "visit recorded",
      async () =>
        (
          await stack.api("changling.director", "POST", "/api/v1/visit-records", {
            childId,
            kind: "home_visit",
            date: new Intl.DateTimeFormat("en-CA", { timeZone: "Asia/Shanghai" }).format(new Date()),
            findings: { mood: "开朗" },
          })
        ).status,
      (status) => status === 201,
    );
    const page = await stack.open("changling.director", `/children/${childId}`, phone);
    await page.getByRole("tab", { name: "附件" }).click();
    await expect.poll(() => page.locator("img[alt='家访.jpg']").count()).toBe(1);
    await expect.poll(() => page.getByRole("button", { name: "拍照上传" }).count()).toBe(1);
    await shot(page, "child-attachments-phone");

    // On a phone the tab strip scrolls: the first tap may only bring 走访 into view.
    await clickUntil(page.getByRole("tab", { name: "走访" }), page.getByTestId("visit-history"), "家访");
    await expect.poll(() => page.getByTestId("visit-record").count()).toBe(1);
    const photo = await sharp({ create: { width: 800, height: 600, channels: 3, background: "#a86" } })
      .jpeg()
      .toBuffer();
    await page.getByTestId("visit-photo-camera").setInputFiles({ name: "走访照片.jpg", mimeType: "image/jpeg", buffer: photo });
    await expect.poll(() => page.locator("img[alt='走访照片.jpg']").count()).toBe(1);
    await shot(page, "visit-photos-phone");
    await page.context().close();
  }, 90_000);
});
