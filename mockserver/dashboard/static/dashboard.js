// The dashboard's only script: buttons and forms call the admin API, and the page keeps its
// live regions ([data-live]) current by fetching itself again and swapping what changed.
"use strict";
(() => {
  const POLL_MS = 1000;

  function say(text, bad) {
    const status = document.getElementById("status");
    status.textContent = text;
    status.classList.toggle("bad", Boolean(bad));
  }

  async function call(method, url, body) {
    const init = {method, headers: {accept: "application/json"}};
    if (body !== undefined) {
      init.headers["content-type"] = "application/json";
      init.body = typeof body === "string" ? body : JSON.stringify(body);
    }
    const answer = await fetch(url, init);
    let doc = null;
    try { doc = await answer.json(); } catch (_) { doc = null; }
    return {ok: answer.ok, status: answer.status, doc};
  }

  async function act(method, url, body) {
    say(`${method} ${url} …`);
    try {
      const result = await call(method, url, body);
      const why = result.doc && result.doc.error ? result.doc.error : `HTTP ${result.status}`;
      say(result.ok ? `${method} ${url}: done` : `${method} ${url} refused: ${why}`, !result.ok);
      await refresh();
      return result;
    } catch (error) {
      say(`${method} ${url} failed: ${error}`, true);
      return null;
    }
  }

  // A form's fields as a JSON object: empty and disabled fields are left out.
  function formJson(form) {
    const doc = {};
    for (const field of form.elements) {
      if (!field.name || field.disabled || field.value.trim() === "") continue;
      if (field.dataset.type === "number") {
        doc[field.name] = Number(field.value);
      } else if (field.dataset.type === "json") {
        try {
          doc[field.name] = JSON.parse(field.value);
        } catch (error) {
          throw new Error(`${field.labels[0].textContent.trim()} is not valid JSON: ${error.message}`);
        }
      } else {
        doc[field.name] = field.value.trim();
      }
    }
    return doc;
  }

  document.addEventListener("click", (event) => {
    const button = event.target.closest("button[data-method]");
    if (!button) return;
    if (button.dataset.confirm && !window.confirm(button.dataset.confirm)) return;
    act(button.dataset.method, button.dataset.url, button.dataset.body);
  });

  document.addEventListener("submit", (event) => {
    const form = event.target.closest("form[data-json-form]");
    if (!form) return;
    event.preventDefault();
    try {
      act(form.dataset.method, form.dataset.url, formJson(form));
    } catch (error) {
      say(error.message, true);
    }
  });

  // --- live regions ---------------------------------------------------------------------
  const served = new Map();  // region id -> the HTML the server last sent for it
  let refreshing = false;

  function swap(region, html) {
    const focused = region.contains(document.activeElement) ? document.activeElement.id : "";
    const open = [...region.querySelectorAll("details[open]")].map((d) => d.id).filter(Boolean);
    region.innerHTML = html;
    for (const id of open) {
      const details = document.getElementById(id);
      if (details) details.open = true;
    }
    const again = focused && document.getElementById(focused);
    if (again) again.focus();
  }

  async function refresh() {
    if (refreshing || !document.querySelector("[data-live]")) return;
    refreshing = true;
    try {
      const answer = await fetch(location.href, {cache: "no-store", headers: {"x-dashboard-refresh": "1"}});
      if (!answer.ok) return;
      const fresh = new DOMParser().parseFromString(await answer.text(), "text/html");
      for (const region of document.querySelectorAll("[data-live]")) {
        const next = fresh.getElementById(region.id);
        if (next && served.get(region.id) !== next.innerHTML) {
          served.set(region.id, next.innerHTML);
          swap(region, next.innerHTML);
        }
      }
      document.body.dataset.refreshed = String(Date.now());
    } catch (_) {
      // the server may be restarting: the next poll tries again
    } finally {
      refreshing = false;
    }
  }

  // --- the fault form: codes and operations follow the chosen vendor and effect ----------
  function fill(select, items, blank) {
    const keep = select.value;
    select.replaceChildren();
    if (blank) select.append(new Option(blank, ""));
    for (const [value, label] of items) select.append(new Option(label, value));
    if ([...select.options].some((o) => o.value === keep)) select.value = keep;
  }

  function setUpFaultForm() {
    const form = document.getElementById("fault-form");
    if (!form) return;
    const catalogue = JSON.parse(document.getElementById("fault-catalogue").textContent);
    const {vendor, effect, operation, code, latency} = form.elements;
    const update = () => {
      const entry = catalogue[vendor.value];
      fill(operation, entry.operations.map((op) => [op, op]), "any operation");
      let codes = [];
      if (effect.value === "error") codes = entry.error.map((c) => [c.code, `${c.code} (HTTP ${c.status})`]);
      if (effect.value === "fail_task") codes = entry.fail_task.map((c) => [c, c]);
      fill(code, codes, codes.length ? null : "no code for this effect");
      code.disabled = codes.length === 0;
      latency.disabled = effect.value !== "latency";
      latency.required = !latency.disabled;
      operation.disabled = effect.value === "callback_fail";
    };
    vendor.addEventListener("change", update);
    effect.addEventListener("change", update);
    update();
  }

  document.addEventListener("DOMContentLoaded", () => {
    for (const region of document.querySelectorAll("[data-live]")) served.set(region.id, region.innerHTML);
    setUpFaultForm();
    setInterval(() => { if (!document.hidden) refresh(); }, POLL_MS);
  });
})();
