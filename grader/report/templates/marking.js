// The marking views of summary.html: what a tutor types goes into manual.csv's rows, which the
// page holds (#manual-sheet); the button downloads the whole sheet, to be saved over
// OUT/manual.csv. Nothing leaves the page: no request is made, and the CSP allows no other script.
(() => {
  "use strict";
  const sheet = JSON.parse(document.getElementById("manual-sheet").textContent);
  const column = { points: sheet.header.indexOf("points"), comment: sheet.header.indexOf("comment") };
  const status = document.getElementById("marking-status");
  const edited = new Set();
  const special = new RegExp(`["\\r\\n${sheet.delimiter}]`);
  // Quoted as Python's csv module quotes, so that an untouched row comes back as it was.
  const quote = (value) => (special.test(value) ? `"${value.replaceAll('"', '""')}"` : value);
  const text = () => [sheet.header, ...sheet.rows].map((row) => row.map(quote).join(sheet.delimiter)).join("\n") + "\n";
  const say = () => {
    status.textContent = edited.size
      ? `${edited.size} field(s) changed here: download manual.csv and save it over the batch's manual.csv.`
      : "No field changed here since the last download.";
  };
  for (const field of document.querySelectorAll("[data-row][data-column]")) {
    field.addEventListener("input", () => {
      sheet.rows[Number(field.dataset.row)][column[field.dataset.column]] = field.value;
      edited.add(field);
      say();
    });
  }
  document.getElementById("download-manual").addEventListener("click", () => {
    const url = URL.createObjectURL(new Blob([text()], { type: "text/csv;charset=utf-8" }));
    const link = Object.assign(document.createElement("a"), { href: url, download: "manual.csv" });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
    edited.clear();
    say();
  });
  window.addEventListener("beforeunload", (event) => {
    if (edited.size) event.preventDefault();
  });
})();
