# logbook_levels.py: apply the log levels Logbook wants for this service (Python stdlib only).
#   follow_logbook_levels("https://logbook.example", app="shop", token="…")
import json, logging, threading, time, urllib.error, urllib.parse, urllib.request


def follow_logbook_levels(base_url, app, token=None, wait=30):
    """Long-poll Logbook in a daemon thread; set the levels it names, revert the ones it drops."""
    before = {}  # logger name -> the level it had before Logbook changed it

    def logger(name):
        return logging.getLogger(None if name == "root" else name)

    def apply(levels):
        for name, spec in levels.items():
            before.setdefault(name, logger(name).level)
            logger(name).setLevel(spec["levelno"])
        for name in [n for n in before if n not in levels]:
            logger(name).setLevel(before.pop(name))

    def loop():
        url = f"{base_url}/api/v1/levels/desired?app={urllib.parse.quote(app)}&wait={wait}"
        etag = None
        while True:
            req = urllib.request.Request(url)
            if token:
                req.add_header("Authorization", f"Bearer {token}")
            if etag:
                req.add_header("If-None-Match", etag)
            try:
                with urllib.request.urlopen(req, timeout=wait + 10) as r:
                    etag = r.headers.get("ETag")
                    apply(json.load(r)["levels"])
            except urllib.error.HTTPError as e:
                if e.code != 304:  # 304: nothing changed during the wait
                    time.sleep(5)
            except (OSError, ValueError):
                time.sleep(5)

    threading.Thread(target=loop, name="logbook-levels", daemon=True).start()
