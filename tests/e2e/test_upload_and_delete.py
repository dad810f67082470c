"""An upload shows in the Cache tab at once, and deleting it asks first: what a person sees in the browser.

The page reruns after each of these actions so every tab shows the new state; the tab the user
was on stays open, and what the action did is said after the rerun.
"""

import uuid

from tests.e2e.test_journey import app_url, open_page, register_and_log_in, visible_text  # noqa: F401
from tests.fixtures import gspc_2018_bytes


def test_an_upload_lands_in_the_cache_and_a_deletion_is_confirmed(app_url, page, tmp_path):  # noqa: F811
    open_page(page, f"{app_url}/tickers")
    register_and_log_in(page, f"analyst{uuid.uuid4().hex[:6]}")
    page.get_by_role("heading", name="Tickers").wait_for()
    page.get_by_role("tab", name="Upload prices").click()
    file = tmp_path / "spx.csv"
    file.write_bytes(gspc_2018_bytes())
    page.locator('input[type="file"]').first.set_input_files(str(file))
    page.get_by_label("Ticker", exact=True).fill("SPX")
    page.get_by_role("button", name="Import").click()
    visible_text(page, "Wrote 251 rows of SPX from 2018-01-02 to 2018-12-31").wait_for()
    assert page.get_by_role("tab", selected=True).inner_text() == "Upload prices", "the rerun kept the tab open"

    page.get_by_role("tab", name="Cache").click()
    delete = page.get_by_role("button", name="Delete my uploaded SPX", exact=True)
    confirm = page.get_by_role("button", name="Yes, delete my uploaded SPX", exact=True)
    delete.click()
    visible_text(page, "Delete your 251 days of SPX, with their split decisions? Nothing else keeps them.").wait_for()
    page.get_by_role("button", name="Cancel", exact=True).click()
    confirm.wait_for(state="detached")
    assert page.get_by_text("Delete your 251 days of SPX?").count() == 0, "Cancel deletes nothing and asks no more"
    delete.click()
    confirm.click()
    visible_text(page, "Deleted 251 days of SPX.").wait_for()
    visible_text(page, "The cache is empty").wait_for()
