"""QR codes for print, made offline with segno: black on white, as an SVG data URI."""

from __future__ import annotations

import base64
import io

import segno


def qr_svg(url: str) -> bytes:
    """The QR code for ``url`` as SVG (a viewBox and no fixed size, so CSS sets its size).

    Error correction level M survives a smudged or creased leaflet; the four-module quiet
    zone that scanners need is part of the image.
    """
    code = segno.make(url, error="m", micro=False, boost_error=False)
    buffer = io.BytesIO()
    code.save(
        buffer,
        kind="svg",
        scale=1,
        border=4,
        dark="#000000",
        light="#ffffff",
        xmldecl=False,
        omitsize=True,
        svgclass=None,
        lineclass=None,
    )
    return buffer.getvalue()


def qr_data_uri(url: str) -> str:
    """The QR code for ``url`` as a data URI for an ``<img src>`` in a print template."""
    return "data:image/svg+xml;base64," + base64.b64encode(qr_svg(url)).decode("ascii")
