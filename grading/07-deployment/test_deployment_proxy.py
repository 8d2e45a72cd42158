"""Behind Render's proxy: HTTPS ends at the proxy, and X-Forwarded-Proto says so."""

import pytest

FORWARDED = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.7"}


@pytest.mark.grade(
    points=2,
    hint="Wrap app.wsgi_app in werkzeug's ProxyFix(x_for=1, x_proto=1): with "
    "X-Forwarded-Proto: https, redirects and url_for(..., _external=True) must say https://.",
)
def test_forwarded_https_makes_redirects_https(client):
    response = client.get("/app", headers=FORWARDED)
    assert response.status_code in (301, 308), f"GET /app answered {response.status_code}"
    location = response.headers["Location"]
    assert location.startswith("https://"), f"behind the proxy Location should be https: {location}"
    assert location.endswith("/app/"), location


@pytest.mark.grade(
    points=1,
    hint="Trust one proxy only (x_proto=1): without X-Forwarded-Proto the scheme stays http.",
)
def test_without_proxy_headers_redirects_stay_http(client):
    response = client.get("/app", headers=FORWARDED)
    assert response.headers["Location"].startswith("https://"), (
        "ProxyFix is not applied: X-Forwarded-Proto was ignored"
    )
    plain = client.get("/app")
    assert plain.headers["Location"].startswith("http://"), plain.headers["Location"]
