// The API keys and Audit log pages in headless Chromium (issue 16): the owner makes a key
// that acts as an agent (its secret shown once, its limits checked through the JSON API),
// revokes it (refused within 5 seconds), then finds both changes in the audit log,
// filtered by action. Both pages have labelled controls and no horizontal scrolling at
// phone width.
const { test, expect } = require("@playwright/test");
const { unique, signIn, shot, labelled, fitsAPhone } = require("./helpers");

test("an owner makes a key for the agent role, revokes it, and finds both in the audit log", async ({ page, request }) => {
  await signIn(page);
  await page.goto("/keys");
  await expect(page.getByRole("heading", { level: 1, name: "API keys" })).toBeVisible();
  await labelled(page);

  const name = unique("Helpdesk ");
  await page.getByLabel("Name").fill(name);
  await page.getByLabel("Acts as").selectOption("agent");
  await page.getByRole("button", { name: "Make the key" }).click();
  const secret = await page.getByLabel("The new key").inputValue();
  expect(secret).toMatch(/^abc_[0-9a-f]{40}$/);
  await expect(page.locator("tr", { hasText: name })).toContainText("agent (read, write)");
  await shot(page, "keys-made");
  await fitsAPhone(page, "keys-phone");

  // The key may do what an agent may, and no more.
  const as = (path) => request.get(path, { headers: { Authorization: `Bearer ${secret}` } });
  expect((await as("/api/v1/contacts")).status()).toBe(200);
  expect((await as("/api/v1/keys")).status()).toBe(403);

  await page.goto("/keys");
  await page.getByRole("button", { name: `Revoke ${name}` }).click();
  await expect(page.getByRole("status")).toContainText("revoked");
  await expect.poll(async () => (await as("/api/v1/contacts")).status(), { timeout: 10_000 }).toBe(401);

  await page.goto("/audit");
  await expect(page.getByRole("heading", { level: 1, name: "Audit log" })).toBeVisible();
  await labelled(page);
  await page.getByLabel("Action contains").fill("/keys");
  await page.getByRole("button", { name: "Filter" }).click();
  const actions = page.locator("td[data-label=Action]");
  await expect(actions.first()).toHaveText("POST /keys/{id}/revoke");
  await expect(actions.nth(1)).toHaveText("POST /keys");
  await expect(page.locator("td[data-label=Fields]").nth(1)).toHaveText("expires_on, name, role, scopes");
  await shot(page, "audit-keys");
  await fitsAPhone(page, "audit-phone");
});
