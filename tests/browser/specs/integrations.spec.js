// The integrations page in headless Chromium: an admin adds a signed webhook, sees its
// signing secret once, and a receiver on this machine checks that the deliveries that
// follow are signed with that secret. The local stack accepts http://127.0.0.1 addresses.
const crypto = require("node:crypto");
const http = require("node:http");
const { test, expect } = require("@playwright/test");
const { unique, signIn, createContact, shot } = require("./helpers");

/** A webhook receiver on the loopback interface: answers 204 and keeps what arrives. */
async function receiver() {
  const deliveries = [];
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      deliveries.push({ headers: req.headers, body: Buffer.concat(chunks).toString("utf8") });
      res.writeHead(204).end();
    });
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const close = () => new Promise((resolve) => server.close(resolve));
  return { url: `http://127.0.0.1:${server.address().port}/hooks`, deliveries, close };
}

/** Whether a delivery carries a Standard Webhooks signature made with `secret`. */
function signedWith(secret, { headers, body }) {
  const key = Buffer.from(secret.replace(/^whsec_/, ""), "base64");
  const signed = `${headers["webhook-id"]}.${headers["webhook-timestamp"]}.${body}`;
  const expected = `v1,${crypto.createHmac("sha256", key).update(signed).digest("base64")}`;
  return (headers["webhook-signature"] || "").split(" ").includes(expected);
}

test("an admin adds a signed webhook, sees its secret once, then pauses and deletes it", async ({ page, request }) => {
  const hooks = await receiver();
  try {
    await signIn(page);
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Integrations" }).click();
    await expect(page.getByRole("heading", { level: 1, name: "Integrations" })).toBeVisible();
    const unlabelled = await page.$$eval("input:not([type=hidden]), select, textarea", (els) =>
      els.filter((el) => !(el.labels && el.labels.length) && !el.getAttribute("aria-label")).map((el) => el.outerHTML));
    expect(unlabelled).toEqual([]);

    // Only the chosen kind's fields show.
    await page.getByLabel("Kind", { exact: true }).selectOption("salesforce");
    await expect(page.getByLabel("My Domain URL")).toBeVisible();
    await expect(page.getByLabel("URL", { exact: true })).toBeHidden();
    await page.getByLabel("Kind", { exact: true }).selectOption("webhook");
    await expect(page.getByLabel("My Domain URL")).toBeHidden();

    const name = unique("Hooks ");
    await page.getByLabel("Name", { exact: true }).fill(name);
    await page.getByLabel("URL", { exact: true }).fill(hooks.url);
    await page.getByLabel("conversation.closed").uncheck();
    await page.getByRole("button", { name: "Add integration" }).click();

    await expect(page.getByRole("heading", { level: 1, name: "Webhook added" })).toBeVisible();
    await expect(page.locator("main")).toContainText("it is not shown again");
    const secret = (await page.locator("#signing-secret").textContent()).trim();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
    await shot(page, "integration-secret");

    await page.getByRole("link", { name: "Done" }).click();
    const row = page.locator("tr", { hasText: name });
    await expect(row.locator(".badge")).toHaveText("Active");
    await expect(row.locator('td[data-label="Kind"]')).toHaveText("Webhook");
    expect(await page.content()).not.toContain(secret);
    await page.reload();
    expect(await page.content(), "shown once: not after a reload either").not.toContain(secret);
    await shot(page, "integrations");

    // What follows is signed with the secret that was shown.
    const c = await createContact(request, { channel: "frame", name: unique("Hooked ") });
    const ofContact = () => hooks.deliveries.filter((d) => JSON.parse(d.body).data?.contact_id === c.id);
    await expect.poll(() => ofContact().length, { timeout: 60_000 }).toBeGreaterThan(0);
    expect(JSON.parse(ofContact()[0].body).type).toBe("contact.created");
    expect(signedWith(secret, ofContact()[0])).toBe(true);

    await row.getByRole("button", { name: `Pause ${name}` }).click();
    await expect(page.getByRole("status")).toHaveText(`${name} paused: nothing is sent to it until it is resumed.`);
    await expect(row.locator(".badge")).toHaveText("Paused");
    await expect(row.getByRole("button", { name: `Resume ${name}` })).toBeVisible();

    await row.getByRole("link", { name: `Delete ${name}` }).click();
    await expect(page.getByRole("heading", { level: 1 })).toHaveText(`Delete ${name}?`);
    await page.getByRole("link", { name: "Cancel" }).click();
    await expect(row).toHaveCount(1);
    await row.getByRole("link", { name: `Delete ${name}` }).click();
    await page.getByRole("button", { name: `Delete ${name}` }).click();
    await expect(page.getByRole("status")).toContainText("deleted: nothing more is sent to it");
    await expect(row).toHaveCount(0);
  } finally {
    await hooks.close();
  }
});
