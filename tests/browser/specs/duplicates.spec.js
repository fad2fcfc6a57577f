// The review of possible duplicates in headless Chromium: pairs recorded by capture (a
// website visitor offers the email of an existing contact, through signed widget
// webhooks), one dismissed and one merged from /duplicates, each checked through the API;
// labelled controls and the phone width.
const { test, expect } = require("@playwright/test");
const { API_KEY, unique, signIn, createContact, api, widgetEvent, shot, labelled, fitsAPhone } = require("./helpers");

/** A contact made through the API, and a website visitor who offers its email: the pair. */
async function recordedPair(request, botId, first) {
  const email = `${unique(first.toLowerCase())}@duplicates.example`;
  const owner = await createContact(request, { channel: "livechat", name: `${first} ${unique("Dup")}`, email });
  await widgetEvent(request, botId, {
    event_id: unique("e"),
    type: "email_collected",
    visitor_id: unique("v"),
    occurred_at: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
    email,
  });
  let found;
  await expect
    .poll(async () => {
      const { pairs } = await api(request, "/api/v1/duplicates?per_page=100");
      found = pairs.find((p) => p.contacts.some((c) => c.id === owner.id));
      return found ? found.reasons : null;
    }, { timeout: 30_000 })
    .toEqual(["same email"]);
  const [low, high] = found.contacts.map((c) => c.id);
  return { owner, low, high, visitor: low === owner.id ? high : low };
}

test.describe("possible duplicates", () => {
  test.beforeEach(async ({ page }) => signIn(page));

  test("dismisses one pair and merges another from the review", async ({ page, request }) => {
    const botId = (await api(request, "/api/v1/bots")).bots[0].id;
    const dismissed = await recordedPair(request, botId, "Dina");
    const merged = await recordedPair(request, botId, "Mark");

    await page.getByRole("link", { name: "Duplicates", exact: true }).click();
    await expect(page).toHaveURL(/\/duplicates$/);
    await expect(page.getByRole("heading", { level: 1, name: "Possible duplicates" })).toBeVisible();
    const row = (p) => page.locator(`tr[data-pair="${p.low}-${p.high}"]`);
    await expect(row(dismissed)).toContainText(dismissed.owner.name);
    await expect(row(dismissed).locator('td[data-label="Why"]')).toHaveText("same email");
    await expect(row(merged)).toContainText(merged.owner.name);
    await labelled(page);
    await shot(page, "duplicates");
    await fitsAPhone(page, "duplicates-phone");

    // Not the same person: the pair leaves the review and the contact's own duplicates.
    await row(dismissed).getByRole("button", { name: /^Dismiss / }).click();
    await expect(page).toHaveURL(new RegExp(`/duplicates\\?dismissed=${dismissed.low}-${dismissed.high}$`));
    await expect(page.getByRole("status").first()).toContainText("will not be suggested again");
    await expect(row(dismissed)).toHaveCount(0);
    const theirs = await api(request, `/api/v1/contacts/${dismissed.owner.id}/duplicates`);
    expect(theirs.duplicates.map((c) => c.id)).not.toContain(dismissed.visitor);

    // The same person: the merge preview, then back to the review.
    await row(merged).getByRole("link", { name: /^Merge / }).click();
    await expect(page).toHaveURL(new RegExp(`/contacts/${merged.low}/merge\\?other=${merged.high}&from=duplicates`));
    await expect(page.getByRole("heading", { level: 1, name: /^Merge / })).toBeVisible();
    await page.getByRole("button", { name: "Merge contacts" }).click();
    await expect(page).toHaveURL(new RegExp(`/duplicates\\?merged=${merged.low}$`));
    await expect(page.getByRole("status").first()).toContainText(`Merged into contact ${merged.low}`);
    await expect(row(merged)).toHaveCount(0);
    const gone = await request.get(`/api/v1/contacts/${merged.high}`, { headers: { Authorization: `Bearer ${API_KEY}` } });
    expect(gone.status()).toBe(404);
    expect((await gone.json()).merged_into).toBe(merged.low);
    const { pairs } = await api(request, "/api/v1/duplicates?per_page=100");
    const left = pairs.map((p) => `${p.contacts[0].id}-${p.contacts[1].id}`);
    expect(left).not.toContain(`${dismissed.low}-${dismissed.high}`);
    expect(left).not.toContain(`${merged.low}-${merged.high}`);
  });
});
