"""The image of a 图形验证码, drawn by the `captcha` library (noise, curves, warped glyphs)."""
import base64

from captcha.image import ImageCaptcha

_IMAGE = ImageCaptcha(width=160, height=60)


def data_url(answer):
    """A PNG as a data: URL, so pages show it inline (CSP img-src allows data:) with no extra route."""
    png = _IMAGE.generate(answer, format="png").getvalue()
    return "data:image/png;base64," + base64.b64encode(png).decode()
