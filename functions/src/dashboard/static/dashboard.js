// Progressive enhancement only: every page works without this script.
// Shows the custom date range's From/To fields only while "Custom range" is chosen.
document.addEventListener("DOMContentLoaded", () => {
  const range = document.querySelector("select[data-custom-range]");
  const custom = document.getElementById("custom-range");
  if (!range || !custom) return;
  const sync = () => {
    custom.hidden = range.value !== "custom";
    if (custom.hidden) custom.querySelectorAll("input").forEach((i) => { i.value = ""; });
  };
  range.addEventListener("change", () => {
    sync();
    if (!custom.hidden) custom.querySelector("input").focus();
  });
  sync();
});
