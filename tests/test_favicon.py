"""Browsers ask every site for /favicon.ico: it leads to the app's icon, never a 404."""

from django.contrib.staticfiles import finders
from django.test import Client


def test_favicon_ico_redirects_to_the_app_icon_among_the_static_files(db):
    response = Client().get("/favicon.ico")

    assert response.status_code == 301
    assert response["Location"] == "/static/production/favicon.svg"
    icon = finders.find("production/favicon.svg")
    assert icon
    with open(icon) as svg:
        assert "<svg" in svg.read()
