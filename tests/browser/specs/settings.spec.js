// The settings pages in headless Chromium (issue 16, issue 20's import): the owner turns a
// bot's switches and rotates a channel secret, changes the workspace's settings and
// previews the retention policy, and imports a small CSV end to end. Effects are checked
// through the JSON API; each page has labelled controls and no horizontal scrolling at
// phone width.
const { test, expect } = require("@playwright/test");
const { unique, signIn, api, shot, labelled, fitsAPhone } = require("./helpers");

const nav = (page) => page.getByRole("navigation", { name: "Main" });

test("an owner makes a bot, turns its switches and rotates its Telegram secret", async ({ page, request }) => {
  await signIn(page);
  await nav(page).getByRole("link", { name: "Bots" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Bots" })).toBeVisible();
  await labelled(page);

  const name = unique("Browser bot ");
  await page.getByLabel("Name").fill(name);
  await page.getByLabel(/Contact form/).uncheck();
  await page.getByRole("button", { name: "Make the bot" }).click();
  await expect(page.getByRole("heading", { level: 1, name })).toBeVisible();
  await expect(page.getByRole("status")).toContainText("made");
  const id = page.url().split("/bots/")[1].split("?")[0];
  let bot = await api(request, `/api/v1/bots/${id}`);
  expect([bot.email_collect, bot.contact_form]).toEqual([true, false]);

  // The webhook address to give Telegram, on this site.
  const origin = new URL(page.url()).origin;
  await expect(page.locator("#telegram-webhook")).toHaveValue(`${origin}/webhooks/telegram/${id}`);
  await labelled(page);

  await page.getByLabel(/Email Collect/).uncheck();
  await page.getByLabel(/Contact form/).check();
  await page.getByRole("button", { name: "Save", exact: true }).click();
  await expect(page.getByRole("status")).toHaveText("Saved.");
  bot = await api(request, `/api/v1/bots/${id}`);
  expect([bot.email_collect, bot.contact_form]).toEqual([false, true]);

  // A bad secret is refused on the page; a generated one is shown once.
  const telegram = page.locator("#channel-telegram");
  await telegram.getByLabel(/Secret token/).fill("not valid!");
  await telegram.getByRole("button", { name: "Save new secrets" }).click();
  await expect(page.getByRole("alert")).toContainText("Telegram accepts");
  await page.locator("#channel-telegram").getByRole("button", { name: "Generate a new secret" }).click();
  const secret = await page.locator("#new-secret").inputValue();
  expect(secret).toMatch(/^[0-9a-f]{48}$/);
  await expect(page.getByRole("status")).toContainText("shown only this once");
  await shot(page, "bot-secret");
  bot = await api(request, `/api/v1/bots/${id}`);
  expect(bot.channels.telegram.configured).toBe(true);
  const update = { update_id: 7, message: { message_id: 7, date: Math.floor(Date.now() / 1000), chat: { id: 7007, type: "private" }, from: { id: 7007, first_name: "Tess" }, text: "hello" } };
  const accepted = await request.post(`/webhooks/telegram/${id}`, { headers: { "X-Telegram-Bot-Api-Secret-Token": secret }, data: update });
  expect(accepted.status()).toBe(200);

  await page.reload();
  expect(await page.content()).not.toContain(secret);
  await expect(page.locator("#channel-telegram")).toContainText("Secrets set");
  await fitsAPhone(page, "bot-phone");
});

test("an owner changes the workspace's settings and previews the retention policy", async ({ page, request }) => {
  await signIn(page);
  await nav(page).getByRole("link", { name: "Settings" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Settings" })).toBeVisible();
  await labelled(page);
  const before = await api(request, "/api/v1/workspace");

  // Bad input: the message, and the form as typed.
  await page.getByLabel("Time zone").fill("Mars/Olympus");
  await page.getByRole("button", { name: "Save settings" }).click();
  await expect(page.getByRole("alert")).toBeVisible();
  await expect(page.getByLabel("Time zone")).toHaveValue("Mars/Olympus");
  expect((await api(request, "/api/v1/workspace")).time_zone).toBe(before.time_zone);

  await page.getByLabel("Time zone").fill(before.time_zone);
  await page.getByLabel("Deletion grace period (days)").fill("14");
  await page.getByRole("button", { name: "Save settings" }).click();
  await expect(page.getByRole("status")).toHaveText("Settings saved.");
  // The API trusts a key's cached workspace for up to 5 s.
  await expect.poll(async () => (await api(request, "/api/v1/workspace")).deletion_grace_days, { timeout: 10_000 }).toBe(14);

  await page.getByLabel("Inactive after (days)").fill("30");
  await page.getByLabel("Then").selectOption("flag");
  await page.getByRole("button", { name: "Save policy" }).click();
  await expect(page.getByRole("status")).toHaveText("Retention policy saved.");
  expect(await api(request, "/api/v1/retention/policy")).toMatchObject({ inactive_after_days: 30, action: "flag" });

  await page.getByRole("button", { name: "Preview (dry run)" }).click();
  const status = page.locator("#run-status");
  await expect(status).toContainText("nothing was changed");
  await expect(status).toContainText("Examined");
  await shot(page, "retention-preview");
  const runs = await api(request, "/api/v1/retention/runs");
  expect(runs.runs[0]).toMatchObject({ dry_run: true, status: "done" });
  await fitsAPhone(page, "settings-phone");
});

test("an owner imports a small CSV: upload, guessed columns, dry run, import, report", async ({ page, request }) => {
  await signIn(page);
  await nav(page).getByRole("link", { name: "Import" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Import contacts" })).toBeVisible();
  await labelled(page);

  const tag = unique("imp");
  const csv = `Name,Email,Channel\nIda ${tag},ida.${tag}@import.example,telegram\nLeo ${tag},leo.${tag}@import.example,\nBad ${tag},not-an-email,\n`;
  await page.getByLabel(/CSV or Excel/).setInputFiles({ name: "people.csv", mimeType: "text/csv", buffer: Buffer.from(csv) });
  await page.getByRole("button", { name: "Upload" }).click();
  await expect(page).toHaveURL(/\/imports\/im[0-9a-f]+$/);
  await labelled(page);
  // Columns guessed from the header row.
  await expect(page.getByLabel("Email", { exact: true })).toHaveValue("email");
  await expect(page.getByLabel("Channel", { exact: true })).toHaveValue("channel");
  await page.getByLabel("Channel of rows without one").selectOption("frame");
  await expect(page.getByLabel(/Dry run/)).toBeChecked();
  await page.getByRole("button", { name: "Start" }).click();
  await expect(page.locator("#import-state")).toHaveText("dry run done", { timeout: 30_000 });
  await expect(page.locator("#count-created")).toHaveText("2");
  await expect(page.locator("#count-failed")).toHaveText("1");
  await fitsAPhone(page, "import-phone");

  await page.getByLabel("Channel of rows without one").selectOption("frame");
  await expect(page.getByLabel(/Dry run/)).not.toBeChecked();
  await page.getByRole("button", { name: "Start" }).click();
  await expect(page.locator("#import-state")).toHaveText("done", { timeout: 30_000 });
  await expect(page.locator("#count-created")).toHaveText("2");
  await shot(page, "import-done");
  const id = page.url().split("/imports/")[1];
  const done = await api(request, `/api/v1/imports/${id}`);
  expect(done.counts).toEqual({ created: 2, updated: 0, skipped: 0, failed: 1 });
  const report = page.getByRole("link", { name: /Download the failed rows/ });
  await expect(report).toBeVisible();
  const answer = await request.get(await report.getAttribute("href"));
  expect(await answer.text()).toContain("row,reason");
});
