// Live updates without a reload: an element with data-live="<query>" is re-fetched as an
// HTML fragment every data-interval ms, and what changed is swapped in place. The list
// updates its rows by id (new ones on top); a detail page stops once its action finished.
(() => {
  "use strict";

  function parse(html) {
    const template = document.createElement("template");
    template.innerHTML = html.trim();
    return template.content;
  }

  function updateRows(tbody, fragment) {
    const fresh = [...fragment.querySelectorAll("tr[id]")];
    if (!fresh.length) return;
    tbody.querySelector("tr.aa-empty")?.remove();
    for (const row of fresh.reverse()) {
      const current = document.getElementById(row.id);
      if (!current) tbody.prepend(row);
      else if (current.innerHTML !== row.innerHTML) current.replaceWith(row);
    }
  }

  function updateBody(container, fragment) {
    const probe = document.createElement("div");
    probe.append(fragment);
    if (probe.innerHTML !== container.innerHTML) container.innerHTML = probe.innerHTML;
    return container.querySelector("[data-finished='1']") !== null;
  }

  function live(element) {
    const interval = Number(element.dataset.interval) || 1500;
    const url = new URL(element.dataset.live, window.location.href);
    const tick = async () => {
      if (!document.hidden) {
        try {
          const response = await fetch(url, { credentials: "same-origin" });
          if (response.ok) {
            const fragment = parse(await response.text());
            if (element.tagName === "TBODY") updateRows(element, fragment);
            else if (updateBody(element, fragment)) return; // finished: nothing will change
          }
        } catch (error) {
          // A server restart or a dropped connection: try again next time.
        }
      }
      window.setTimeout(tick, interval);
    };
    window.setTimeout(tick, interval);
  }

  document.querySelectorAll("[data-live]").forEach(live);
})();
