"""The dashboard in a real browser (Debian's headless Chromium under Selenium): tasks moving on
the page without a reload, images loaded, faults, callbacks, the clock and keyboard access."""
from __future__ import annotations

import json

from mockserver.testing import CallbackReceiver, fixture_url

SUBMIT = "/api/v1/services/aigc/album/gen_potrait"
DASHSCOPE = {"Authorization": "Bearer sk-browser", "X-DashScope-Async": "enable"}
PRESET = {"model": "facechain-generation", "parameters": {"style": "f_idcard_female", "n": 2},
          "resources": [{"resource_id": "women_model", "resource_type": "facelora"}]}
RESULT_SIZE = (768, 1024)  # DashScope presets answer 768*1024 (seed 004)


def submit(site, body: dict = PRESET) -> str:
    answer = site.api.post(SUBMIT, json=body, headers=DASHSCOPE)
    assert answer.status_code == 200, answer.text
    return str(answer.json()["output"]["task_id"])


def images_loaded(site, selector: str) -> list[tuple[int, int]]:
    """(naturalWidth, naturalHeight) of every matching image once all have loaded, else []."""
    sizes = site.driver.execute_script(
        "const imgs = [...document.querySelectorAll(arguments[0])];"
        "return imgs.length && imgs.every(i => i.complete && i.naturalWidth > 0)"
        " ? imgs.map(i => [i.naturalWidth, i.naturalHeight]) : [];", selector)
    return [tuple(size) for size in sizes]


def test_root_opens_the_dashboard(site) -> None:
    site.open("/")
    assert site.driver.current_url == site.server.base_url + "/__admin/"
    assert site.driver.title.startswith("Overview")
    assert "dashscope.base_http_api_url" in site.text("main")


def test_a_task_appears_succeeds_without_reload_and_shows_its_results(site) -> None:
    site.open("/__admin/ui/tasks")
    site.driver.execute_script("window.notReloaded = true")
    task_id = submit(site)
    row = f'tr[data-task="{task_id}"] .task-state'
    site.wait(lambda: site.text(row) == "QUEUED", "the new task never appeared")
    site.click("#bar-advance-60")  # +1 min from the page's own clock bar
    site.wait(lambda: site.text(row) == "SUCCEEDED", "the task never turned SUCCEEDED")
    assert site.driver.execute_script("return window.notReloaded") is True
    assert "POST /__admin/clock/advance: done" in site.status()
    site.click(f"#task-{task_id}")
    site.wait(lambda: images_loaded(site, "img.result"), "result images did not load")
    assert images_loaded(site, "img.result") == [RESULT_SIZE, RESULT_SIZE]
    assert "SUCCEEDED" in site.text("#task-state")


def test_a_task_page_updates_live_and_shows_its_input_images(site) -> None:
    body = {"model": "facechain-generation",
            "parameters": {"style": "train_free_portrait_url_template", "n": 1},
            "input": {"template_url": fixture_url(site.server.base_url, "template.jpg"),
                      "user_urls": [fixture_url(site.server.base_url, "face.jpg")]}}
    task_id = submit(site, body)
    site.open(f"/__admin/ui/tasks/{task_id}")
    site.wait(lambda: len(images_loaded(site, "img.thumb")) == 2, "thumbnails did not load")
    assert images_loaded(site, "img.thumb") == [(180, 240), (240, 240)]
    cards = site.all("#input-images li")
    assert "900x1200 px" in cards[0].text and "accepted" in cards[0].text
    assert "Faces\n1" in cards[1].text
    site.click("#bar-advance-3600")
    site.wait(lambda: images_loaded(site, "img.result") == [(768, 1024)],
              "the result at the vendor's 768x1024 did not appear")


def test_add_and_remove_a_fault_from_the_page(site) -> None:
    site.open("/__admin/ui/faults")
    from selenium.webdriver.support.ui import Select

    Select(site.css("#fault-vendor")).select_by_value("dashscope")
    Select(site.css("#fault-effect")).select_by_value("error")
    codes = [o.get_attribute("value") for o in Select(site.css("#fault-code")).options]
    assert "Throttling.RateQuota" in codes and "InvalidApiKey" in codes
    Select(site.css("#fault-code")).select_by_value("Throttling.RateQuota")
    site.css("#fault-times").send_keys("1")
    site.click("#fault-add")
    site.wait(lambda: site.all('tr[data-rule="f1"]'), "the new rule is not listed")
    rule = site.emulator.features["faults"].get("f1")
    assert rule is not None and (rule.vendor, rule.code, rule.times) == (
        "dashscope", "Throttling.RateQuota", 1)
    assert site.api.post(SUBMIT, json=PRESET, headers=DASHSCOPE).status_code == 429
    site.wait(lambda: "1 / 1" in site.text('tr[data-rule="f1"]'), "the firing is not shown")
    site.click("#remove-f1")
    site.wait(lambda: not site.all('tr[data-rule="f1"]'), "the rule stayed on the page")
    assert site.emulator.features["faults"].rules() == []


def test_the_fault_form_explains_what_the_api_refuses(site) -> None:
    site.open("/__admin/ui/faults")
    from selenium.webdriver.support.ui import Select

    Select(site.css("#fault-effect")).select_by_value("stall")
    assert site.css("#fault-code").get_attribute("disabled") == "true"
    site.css("#fault-body").send_keys("{not json")
    site.click("#fault-add")
    site.wait(lambda: "Body match (JSON) is not valid JSON" in site.status())
    site.css("#fault-body").clear()
    site.css("#fault-body").send_keys('["a list"]')
    site.click("#fault-add")
    site.wait(lambda: "refused: 'body' must be an object" in site.status(), "no refusal shown")
    assert site.emulator.features["faults"].rules() == []


def test_redeliver_a_callback(site) -> None:
    with CallbackReceiver() as receiver:
        answer = site.api.post("/headshots/generate", headers={"Authorization": "Bearer sk-cb"},
                               json={"template": "wedding", "callback_url": receiver.url,
                                     "image_urls": ["https://cdn.example.com/me.jpg"]})
        task_id = answer.json()["task_id"]
        site.api.post("/__admin/clock/advance", json={"seconds": 120})
        site.api.post("/__admin/callbacks/drain").raise_for_status()
        assert len(receiver.bodies) == 1
        (record,) = site.emulator.callbacks.records(task_id=task_id)
        site.open("/__admin/ui/callbacks")
        card = f"#callback-{record['id']}"
        assert "delivered" in site.text(card)
        site.click(f"#redeliver-{record['id']}")
        site.wait(lambda: "manual" in site.text(f"{card} .attempts"), "no manual attempt shown")
        assert len(receiver.bodies) == 2 and receiver.bodies[0] == receiver.bodies[1]
        attempts = site.emulator.callbacks.get(record["id"])["attempts"]
        assert [a["manual"] for a in attempts] == [False, True]


def test_clock_page_advances_and_resets(site) -> None:
    submit(site)
    site.open("/__admin/ui/clock")
    site.click("#advance-3600")
    site.wait(lambda: site.text("#clock-offset").startswith("1 h"), "offset not shown")
    site.css("#advance-form input[name=seconds]").send_keys("30")
    site.click("#advance-custom")
    site.wait(lambda: site.text("#clock-offset").startswith("1 h 30 s"), "custom step not shown")
    assert 3629 < site.emulator.clock.offset < 3632
    site.click("#reset-all")
    site.driver.switch_to.alert.accept()
    site.wait(lambda: site.text("#clock-offset").startswith("0 s"), "reset not shown")
    assert site.emulator.store.list_tasks() == []


def test_journal_page_filters_and_opens_an_entry(site) -> None:
    task_id = submit(site)
    site.api.get("/api/v1/taks/x", headers=DASHSCOPE)  # a near miss
    site.open("/__admin/ui/journal")
    site.css("input[name=task_id]").send_keys(task_id)
    site.click("#journal-filter")
    site.wait(lambda: "task_id=" in site.driver.current_url)
    rows = site.all("#journal-list details summary")
    assert len(rows) == 1
    rows[0].click()
    request, response = site.all("#journal-list .sides pre")[:2]
    assert json.loads(request.text.split("\n\n", 1)[1])["parameters"]["style"] == "f_idcard_female"
    assert "Bearer sk-b***" in request.text and "sk-browser" not in request.text
    assert json.loads(response.text)["output"]["task_id"] == task_id
    assert site.css("#har-link").get_attribute("href").endswith(f"task_id={task_id}&limit=50")


# --- keyboard access ------------------------------------------------------------------------

# Each element Tab focuses, with its outline as drawn at that moment (keyboard focus).
RECORD_FOCUS = """
window.focused = [];
document.addEventListener('focusin', (e) => window.focused.push(
  [e.target.id || '', getComputedStyle(e.target).outlineStyle]));
"""
BUTTONS = """
return [...document.querySelectorAll('button')]
  .filter((b) => !b.disabled && b.offsetParent !== null).map((b) => b.id);
"""


def test_tab_reaches_every_button_on_every_page(site) -> None:
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    task_id = submit(site)
    site.api.post("/__admin/faults", json={"vendor": "gptge", "effect": "stall"})
    with CallbackReceiver() as receiver:
        site.api.post("/headshots/generate", headers={"Authorization": "Bearer sk-cb"},
                      json={"template": "wedding", "callback_url": receiver.url,
                            "image_urls": ["https://cdn.example.com/me.jpg"]})
    pages = ("/__admin/", "/__admin/ui/tasks", f"/__admin/ui/tasks/{task_id}",
             "/__admin/ui/journal", "/__admin/ui/callbacks", "/__admin/ui/faults",
             "/__admin/ui/clock")
    for path in pages:
        site.open(path)
        buttons = site.driver.execute_script(BUTTONS)
        assert buttons and all(buttons), f"{path}: every button needs an id: {buttons}"
        site.driver.execute_script(RECORD_FOCUS)
        outlines: dict[str, set[str]] = {}
        for _ in range(3):  # a live region swapped mid-walk may send focus back to the top
            ActionChains(site.driver).send_keys(*[Keys.TAB] * 150).perform()
            for element, outline in site.driver.execute_script("return window.focused"):
                outlines.setdefault(element, set()).add(outline)
            if set(buttons) <= set(outlines):
                break
        missed = set(buttons) - set(outlines)
        assert not missed, f"{path}: Tab never reached {missed}"
        unseen = [b for b in buttons if outlines[b] == {"none"}]
        assert not unseen, f"{path}: keyboard focus on {unseen} draws no outline"
