// The contacts tools in headless Chromium: segments saved from the contacts page, bulk
// actions on checked rows and on all matching contacts, the trash, and undoing a merge,
// against the real service; data made through the service's own API.
const { test, expect } = require("@playwright/test");
const { API_KEY, unique, signIn, createContact, searchable, getContact, api, shot } = require("./helpers");

const auth = { Authorization: `Bearer ${API_KEY}` };
const DATE_TIME = /\d{1,2}\.\d{1,2}\.\d{4} \d{2}:\d{2}:\d{2}/;
const row = (page, id) => page.locator(`tr[data-contact-id="${id}"]`);

async function noOverflow(page, path) {
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  expect(overflow, `no horizontal scrolling at 390 px on ${path}`).toBeLessThanOrEqual(0);
}

/** Two contacts with a shared, unique surname, found by search once the stream indexed them. */
async function pair(request, channel) {
  const surname = unique("Tool");
  const made = [];
  for (const first of ["Ada", "Bea"]) {
    made.push(await createContact(request, { channel, name: `${first} ${surname}` }));
  }
  for (const c of made) await searchable(request, surname, c.id);
  return { surname, made };
}

test.describe("contact tools", () => {
  test.beforeEach(async ({ page }) => signIn(page));

  test("saves a filtered view as a segment, lists it with its size, opens, renames and exports it", async ({ page, request }) => {
    await page.getByLabel("Channel").selectOption("livechat");
    await page.getByRole("button", { name: "Apply filters" }).click();
    await expect(page).toHaveURL(/channel=livechat/);

    // Blank (only spaces): the service refuses it beside the field and keeps the view.
    await page.getByLabel("Save these filters as a segment").fill("   ");
    await page.getByRole("button", { name: "Save as segment" }).click();
    await expect(page.locator("#segment-error")).toHaveText("Name: is required");
    await expect(page.getByLabel("Channel")).toHaveValue("livechat");

    const name = unique("Live chat people ");
    await page.getByLabel("Save these filters as a segment").fill(name);
    await page.getByRole("button", { name: "Save as segment" }).click();
    await expect(page).toHaveURL(/\/segments\/sg[a-z0-9]{10}\?saved=1$/);
    await expect(page.getByRole("status").first()).toHaveText("Segment saved.");
    const id = page.url().match(/segments\/(sg[a-z0-9]{10})/)[1];
    const segment = await api(request, `/api/v1/segments/${id}`);
    expect(segment.filters).toEqual({ channel: "livechat" });
    const { total } = await api(request, `/api/v1/segments/${id}/contacts`);
    for (const channel of await page.locator('td[data-label="Channel"]').allTextContents()) {
      expect(channel.trim()).toBe("livechat");
    }
    await shot(page, "segment");

    await page.getByRole("link", { name: "Segments", exact: true }).click();
    const listed = page.locator(`tr[data-segment-id="${id}"]`);
    await expect(listed.locator('td[data-label="Size"]')).toHaveText(total === 1 ? "1 contact" : `${total} contacts`);
    await expect(listed.locator('td[data-label="Filters"]')).toHaveText("channel = livechat");
    await shot(page, "segments");

    await listed.getByRole("link", { name }).click();
    await page.getByLabel("Name", { exact: true }).fill(`${name} renamed`);
    await page.getByRole("button", { name: "Rename" }).click();
    await expect(page.getByRole("status").first()).toHaveText("Segment renamed.");
    expect((await api(request, `/api/v1/segments/${id}`)).name).toBe(`${name} renamed`);

    await page.getByLabel("Export this segment as").selectOption("csv");
    await page.getByRole("button", { name: "Export" }).click();
    await expect(page).toHaveURL(/\/exports\//);
    await expect(page.locator("#export-status")).toHaveText(/^Ready:/, { timeout: 30_000 });
    await expect(page.locator("main")).toContainText("channel = livechat");

    await page.goto(`/segments/${id}`);
    await page.getByRole("link", { name: "Delete segment…" }).click();
    await page.getByRole("button", { name: "Delete segment" }).click();
    await expect(page.getByRole("status").first()).toContainText("deleted");
    expect((await request.get(`/api/v1/segments/${id}`, { headers: auth })).status()).toBe(404);
  });

  test("tags checked rows with the keyboard alone and shows a result per contact", async ({ page, request }) => {
    const { surname, made } = await pair(request, "telegram");
    await page.getByLabel("Search").fill(surname);
    await page.keyboard.press("Enter");
    await expect(page).toHaveURL(new RegExp(`q=${surname}`));

    for (const c of made) {
      await page.getByRole("checkbox", { name: `Select ${c.name}` }).focus();
      await page.keyboard.press("Space");
      await expect(page.getByRole("checkbox", { name: `Select ${c.name}` })).toBeChecked();
    }
    await page.getByLabel("Action", { exact: true }).focus();
    await page.getByLabel("Action", { exact: true }).selectOption("tag");
    await page.getByLabel("Tag (to add or remove)").focus();
    await page.keyboard.type("webinar");
    await page.getByRole("button", { name: "Apply to selected" }).focus();
    await page.keyboard.press("Enter");

    await expect(page.locator("#bulk-summary")).toHaveText("2 done of 2 contacts.");
    for (const c of made) {
      await expect(row(page, c.id).locator('td[data-label="Result"]')).toHaveText("Done");
      expect((await (await getContact(request, c.id)).json()).tags).toContain("webinar");
    }
    await shot(page, "bulk-results");
  });

  test("a bulk action without its tag is refused with the selection kept", async ({ page, request }) => {
    const { surname, made } = await pair(request, "frame");
    await page.goto(`/contacts?q=${surname}`);
    await page.getByRole("checkbox", { name: `Select ${made[0].name}` }).check();
    await page.getByLabel("Action", { exact: true }).selectOption("untag");
    await page.getByRole("button", { name: "Apply to selected" }).click();
    await expect(page.locator("#bulk-error")).toHaveText("Tag: is required for this action");
    await expect(page.getByLabel("Tag (to add or remove)")).toHaveAttribute("aria-invalid", "true");
    await expect(page.getByRole("checkbox", { name: `Select ${made[0].name}` })).toBeChecked();
    await expect(page.getByRole("checkbox", { name: `Select ${made[1].name}` })).not.toBeChecked();
  });

  test("deletes all matching contacts after a confirmation, then restores one from the trash", async ({ page, request }) => {
    const { surname, made } = await pair(request, "whatsapp");
    await page.goto(`/contacts?q=${surname}`);
    await page.getByLabel(/^Select all .*matching the filters/).check();
    await page.getByLabel("Action", { exact: true }).selectOption("delete");
    await page.getByRole("button", { name: "Apply to selected" }).click();
    await expect(page.getByRole("heading", { level: 1 })).toHaveText("Delete 2 contacts?");
    await shot(page, "bulk-confirm");
    for (const c of made) expect((await getContact(request, c.id)).status(), "nothing deleted before the confirmation").toBe(200);
    await page.getByRole("button", { name: "Delete 2 contacts" }).click();
    await expect(page.locator("#bulk-summary")).toHaveText("2 done of 2 contacts.");

    await page.getByRole("link", { name: "Trash" }).first().click();
    await expect(page).toHaveURL(/\/trash$/);
    const [kept, back] = made;
    const gone = await (await getContact(request, kept.id)).json();
    expect(gone.purge_after).toBeTruthy();
    await expect(row(page, kept.id).locator('td[data-label="Purged on"]')).toHaveText(DATE_TIME);
    await expect(row(page, back.id)).toContainText(back.name);
    await shot(page, "trash");

    await page.getByRole("button", { name: `Restore ${back.name}` }).click();
    await expect(page.getByRole("status").first()).toContainText(`Contact ${back.id} restored.`);
    await expect(row(page, back.id)).toHaveCount(0);
    expect((await getContact(request, back.id)).status()).toBe(200);
  });

  test("undoes a merge from the survivor's page", async ({ page, request }) => {
    const keep = await createContact(request, { channel: "telegram", name: `Keep ${unique("Merge")}` });
    const other = await createContact(request, { channel: "frame", name: `Other ${unique("Merge")}`, email: `${unique("m")}@sunhub.com.au` });
    const r = await request.post(`/api/v1/contacts/${keep.id}/merge`, { headers: auth, data: { other_id: other.id } });
    expect(r.status(), await r.text()).toBe(200);

    await page.goto(`/contacts/${keep.id}`);
    const undo = page.getByRole("button", { name: /^Undo merge \(until / });
    await expect(page.locator("#merges")).toContainText(`Contact ${other.id} (${other.name})`);
    await shot(page, "merge-undo");
    await undo.click();
    await expect(page).toHaveURL(new RegExp(`/contacts/${keep.id}\\?unmerged=${other.id}$`));
    await expect(page.getByRole("status").first()).toHaveText("Merge undone: both contacts are back as they were.");
    await expect(page.locator("#merges")).toHaveCount(0);
    expect((await (await getContact(request, other.id)).json()).email).toBe(other.email);
  });

  test("the tools' pages work at phone width", async ({ page, request }) => {
    const c = await createContact(request, { channel: "messenger", name: `Phone ${unique("Width")}` });
    const seg = await request.post("/api/v1/segments", { headers: auth, data: { name: unique("Phone "), filters: { channel: "messenger" } } });
    expect(seg.status()).toBe(201);
    const { id } = await seg.json();
    await request.delete(`/api/v1/contacts/${c.id}`, { headers: auth });
    await page.setViewportSize({ width: 390, height: 844 });
    for (const [path, name] of [["/contacts", "contacts-bulk-phone"], ["/segments", null], [`/segments/${id}`, null], ["/trash", "trash-phone"]]) {
      await page.goto(path);
      await noOverflow(page, path);
      if (name) await shot(page, name, { fullPage: false });
    }
  });
});
