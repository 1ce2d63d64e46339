"""home_first_view_kb: what a phone downloads to show the home page's first screen.

Headless Chromium (Debian's, driven by Playwright) at 390x844 with a phone's pixel ratio of 3
(it then picks the renditions a phone picks), an empty cache and no cookie, opens the home
page of the bench's server (bench.web: production settings, media on S3) and counts the bytes
of every response received until the page's load event, as the network reports them
(Chrome DevTools Protocol: ``encodedDataLength``, headers included): HTML, CSS, JavaScript,
images, from the site and from S3 alike.
"""

from __future__ import annotations

from collections import defaultdict

PHONE = {"width": 390, "height": 844}
PIXEL_RATIO = 3


def first_view(base: str) -> dict[str, float]:
    from playwright.sync_api import sync_playwright

    from tests.browser import CHROMIUM, LAUNCH_ARGS

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=LAUNCH_ARGS)
        try:
            context = browser.new_context(
                viewport=PHONE, device_scale_factor=PIXEL_RATIO, is_mobile=True, has_touch=True
            )
            page = context.new_page()
            by_type = _count_bytes(context.new_cdp_session(page), page, base + "/")
        finally:
            browser.close()
    total = sum(by_type.values())
    return {
        "home_first_view_kb": total / 1024,
        "home_first_view_image_kb": by_type.get("Image", 0) / 1024,
    }


def _count_bytes(cdp, page, url: str) -> dict[str, int]:
    """Bytes received until the load event, per resource type (Document, Stylesheet, Image...)."""
    kinds: dict[str, str] = {}
    received: dict[str, int] = {}
    cdp.on("Network.responseReceived", lambda event: kinds.__setitem__(event["requestId"], event["type"]))
    cdp.on(
        "Network.loadingFinished",
        lambda event: received.__setitem__(event["requestId"], event["encodedDataLength"]),
    )
    cdp.send("Network.enable")
    cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
    response = page.goto(url, wait_until="load")
    if response is None or response.status != 200:
        raise SystemExit(f"the home page answered {response.status if response else 'nothing'}")
    by_type: dict[str, int] = defaultdict(int)
    for request_id, size in dict(received).items():
        by_type[kinds.get(request_id, "Other")] += size
    return dict(by_type)


def main() -> None:
    """``python -m bench.home URL``: the figures for a running server (e.g. ``make run``)."""
    import sys

    for name, value in first_view(sys.argv[1].rstrip("/")).items():
        print(f"{name}={value:.1f}")


if __name__ == "__main__":
    main()
