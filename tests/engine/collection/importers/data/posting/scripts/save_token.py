import httpx
from posting import Posting


def on_response(response: httpx.Response, posting: Posting) -> None:
    posting.set_variable("TOKEN", response.json()["token"])
