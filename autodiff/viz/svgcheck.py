"""Geometry of a graphviz SVG: which edges cross a cluster's label (used by the tests and the gallery)."""
import re
import xml.etree.ElementTree as ET

__all__ = ["label_crossings"]

_NS = "{http://www.w3.org/2000/svg}"


def _bezier_points(d, steps=16):
    nums = [float(v) for v in re.findall(r"-?\d+(?:\.\d+)?(?:e-?\d+)?", d)]
    pts = list(zip(nums[0::2], nums[1::2]))
    out = [pts[0]] if pts else []
    for k in range(1, len(pts) - 2, 3):
        p0, p1, p2, p3 = pts[k - 1], pts[k], pts[k + 1], pts[k + 2]
        for i in range(1, steps + 1):
            t = i / steps
            a, b, c, e = (1 - t) ** 3, 3 * t * (1 - t) ** 2, 3 * t * t * (1 - t), t ** 3
            out.append((a * p0[0] + b * p1[0] + c * p2[0] + e * p3[0], a * p0[1] + b * p1[1] + c * p2[1] + e * p3[1]))
    return out


def label_crossings(svg_text):
    """``[(cluster label, edge title)]`` for every edge whose path passes through a cluster label's box."""
    root = ET.fromstring(svg_text[svg_text.find("<svg"):])
    boxes = []
    for g in root.iter(_NS + "g"):
        cls, title = g.get("class"), g.find(_NS + "title")
        is_title_node = cls == "node" and title is not None and "title_" in (title.text or "")
        if cls != "cluster" and not is_title_node:
            continue
        for t in g.findall(_NS + "text"):
            size = float(t.get("font-size", "11"))
            x, y, text = float(t.get("x")), float(t.get("y")), t.text or ""
            w = 0.6 * size * len(text)
            anchor = t.get("text-anchor", "middle")
            x0 = x - w / 2 if anchor == "middle" else (x - w if anchor == "end" else x)
            boxes.append((text, x0, y - size, x0 + w, y + 2))
    hits = []
    for g in root.iter(_NS + "g"):
        if g.get("class") != "edge":
            continue
        title = g.find(_NS + "title").text
        for path in g.findall(_NS + "path"):
            for px, py in _bezier_points(path.get("d")):
                for text, x0, y0, x1, y1 in boxes:
                    if x0 <= px <= x1 and y0 <= py <= y1 and (text, title) not in hits:
                        hits.append((text, title))
    return hits
