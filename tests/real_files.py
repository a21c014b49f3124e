"""Review files in the layouts real ones come in, written by the tests (synthetic rows, real shapes).

* :func:`write_kaggle_clothing` — the Kaggle "Women's Clothing E-Commerce Reviews" CSV the course's week-1
  notebook starts from: an unnamed index column, ``Clothing ID,Age,Title,Review Text,Rating,Recommended IND,
  Positive Feedback Count,Division Name,Department Name,Class Name``; empty titles and texts, missing class
  names, quoted line breaks, doubled quotes and commas inside text, classes with ten reviews or fewer.
* :func:`write_amazon_tsv` — the Amazon Customer Reviews TSV (15 columns, tab-separated, unquoted): stray
  quotes inside text (``5" screen``), ``<br />`` line breaks and HTML entities, empty bodies, trailing blank lines.
* :func:`write_datafiniti_csv` — a Datafiniti-style product-review CSV: UTF-8 BOM, CRLF line ends, dotted
  names (``reviews.rating``, ``reviews.text``), quoted fields, empty ratings.

Each returns the file's path; the rows come from a seeded generator, so the same call writes the same bytes.
Their numbers are never written down here: the tests compute them from the file with pandas, as the course does.
"""

from __future__ import annotations

import csv
import random
from pathlib import Path

_POSITIVE = [
    "Love this dress, fits perfectly",
    "Great quality and the colour is gorgeous",
    "I wear it all the time, so comfortable",
    "Not bad at all, actually really nice",
    "Exceeded my expectations!",
    "Beautiful — worth every penny 😍",
    "Très jolie, I get compliments every time",
]
_NEUTRAL = [
    "It is ok, nothing special",
    "The fabric is fine but the fit is odd",
    "Some things I like, some I don't",
    "Returned it, not sure why, it was fine",
    "Mixed feelings: lovely colour, awkward length",
]
_NEGATIVE = [
    "Cheap fabric, fell apart after one wash",
    "Great, it ripped the first time I wore it",
    "I wouldn't say it is good",
    "Runs very small and looks nothing like the picture",
    "Disappointed, sending it back",
]
_FILLER = ["the", "and", "really", "very", "sizing", "material", "colour", "length", "I", "would", "wear", "again"]


def _text(rng: random.Random, rating: int) -> str:
    """A review whose words follow the rating, sometimes contradicting it, of a varied length."""
    pool = _POSITIVE if rating >= 4 else _NEUTRAL if rating == 3 else _NEGATIVE
    if rng.random() < 0.08:  # text and stars disagree now and then
        pool = _NEGATIVE if pool is _POSITIVE else _POSITIVE
    parts = [rng.choice(pool)]
    parts += [" ".join(rng.choice(_FILLER) for _ in range(rng.randint(3, 40))) + "."]
    if rng.random() < 0.3:
        parts.append(rng.choice(_NEUTRAL) + ".")
    return " ".join(parts)


_CLASSES = [
    ("General", "Tops", "Dresses", 30),
    ("General", "Tops", "Knits", 22),
    ("General Petite", "Tops", "Blouses", 15),
    ("General", "Bottoms", "Pants", 8),
    ("General", "Bottoms", "Jeans", 6),
    ("Initmates", "Intimate", "Lounge", 4),
    ("General", "Jackets", "Outerwear", 3),
]
_RATINGS = [1, 2, 3, 4, 5]
_RATING_WEIGHTS = [4, 7, 12, 22, 55]


def write_kaggle_clothing(path: Path, rows: int = 2_000, seed: int = 7) -> Path:
    """The course's clothing CSV: ``,Clothing ID,Age,Title,Review Text,Rating,...,Class Name``."""
    rng = random.Random(seed)
    header = [
        "",
        "Clothing ID",
        "Age",
        "Title",
        "Review Text",
        "Rating",
        "Recommended IND",
        "Positive Feedback Count",
        "Division Name",
        "Department Name",
        "Class Name",
    ]
    records: list[list[str]] = []
    weights = [c[3] for c in _CLASSES]
    for index in range(rows):
        division, department, klass = rng.choices(_CLASSES, weights=weights)[0][:3]
        rating = rng.choices(_RATINGS, weights=_RATING_WEIGHTS)[0]
        text = _text(rng, rating)
        roll = rng.random()
        if roll < 0.04:
            text = ""  # no review text (845 of 23,486 in the real file)
        elif roll < 0.05:
            text = text.replace(". ", ".\n\n", 1)  # a quoted line break inside the field
        elif roll < 0.06:
            text = 'She said "perfect", and it was, really' + ", " + text  # doubled quotes and commas
        title = "" if rng.random() < 0.16 else rng.choice(["Love it", "Meh", "Returned", "So cute!", "Wow, just wow"])
        if rng.random() < 0.004:
            division = department = klass = ""  # missing class names (14 in the real file)
        records.append(
            [
                str(index),
                str(rng.randint(1, 1200)),
                str(rng.randint(18, 90)),
                title,
                text,
                str(rating),
                "1" if rating >= 4 else "0",
                str(rng.randint(0, 40)),
                division,
                department,
                klass,
            ]
        )
    # small classes the course drops (ten reviews or fewer), one of them partly without text
    for klass, count in (("Chemises", 1), ("Casual bottoms", 2), ("Trend", 9)):
        for _ in range(count):
            rating = rng.choices(_RATINGS, weights=_RATING_WEIGHTS)[0]
            records.append(
                [
                    str(len(records)),
                    "42",
                    "35",
                    "",
                    _text(rng, rating) if rng.random() > 0.2 else "",
                    str(rating),
                    "1",
                    "0",
                    "General",
                    "Trend",
                    klass,
                ]
            )
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(records)
    return path


AMAZON_HEADER = [
    "marketplace",
    "customer_id",
    "review_id",
    "product_id",
    "product_parent",
    "product_title",
    "product_category",
    "star_rating",
    "helpful_votes",
    "total_votes",
    "vine",
    "verified_purchase",
    "review_headline",
    "review_body",
    "review_date",
]


def write_amazon_tsv(path: Path, rows: int = 2_000, seed: int = 11, category: str | None = None) -> Path:
    """``amazon_reviews_us_<Category>_v1_00.tsv``: tab-separated, no quoting, stray quotes and HTML in the text."""
    rng = random.Random(seed)
    categories = [("Apparel", 40), ("Shoes", 25), ("Watches", 20), ("Luggage", 12), ("Gift_Card", 3)]
    lines = ["\t".join(AMAZON_HEADER)]
    for index in range(rows):
        name = category or rng.choices([c for c, _ in categories], weights=[w for _, w in categories])[0]
        rating = rng.choices(_RATINGS, weights=_RATING_WEIGHTS)[0]
        body = _text(rng, rating)
        roll = rng.random()
        if roll < 0.03:
            body = ""
        elif roll < 0.08:
            body = body.replace(". ", ".<br /><br />", 1)  # the dataset's line breaks
        elif roll < 0.12:
            body = 'The 5" heel is "fine" &amp; the strap &#34;ok&#34; ' + body  # stray quotes, entities
        headline = "" if rng.random() < 0.05 else rng.choice(["Five Stars", "Meh", 'Not "great"', "Love it"])
        fields = [
            "US",
            str(10_000_000 + rng.randint(0, 9_999_999)),
            f"R{index:013d}",
            f"B00{rng.randint(0, 9_999_999):07d}",
            str(rng.randint(0, 999_999_999)),
            rng.choice(["Slim Fit Shirt", 'Boots, 6" shaft', "Travel Bag"]),
            name,
            str(rating),
            str(rng.randint(0, 20)),
            str(rng.randint(20, 40)),
            "N",
            rng.choice(["Y", "N"]),
            headline,
            body,
            f"2015-{rng.randint(1, 8):02d}-{rng.randint(1, 28):02d}",
        ]
        lines.append("\t".join(fields))
    path.write_text("\n".join(lines) + "\n\n\n", encoding="utf-8")  # trailing blank lines, as some files end
    return path


def write_datafiniti_csv(path: Path, rows: int = 1_500, seed: int = 13) -> Path:
    """A Datafiniti-style CSV: BOM, CRLF, dotted column names, quoted fields, some ratings missing."""
    rng = random.Random(seed)
    header = [
        "id",
        "dateAdded",
        "name",
        "brand",
        "primaryCategories",
        "reviews.date",
        "reviews.doRecommend",
        "reviews.rating",
        "reviews.text",
        "reviews.title",
        "reviews.username",
    ]
    records = []
    for index in range(rows):
        rating = rng.choices(_RATINGS, weights=_RATING_WEIGHTS)[0]
        records.append(
            [
                f"AV{index:08d}",
                "2019-04-25T09:08:16Z",
                rng.choice(["Kindle Fire 7", "Echo Dot, 2nd gen", "AmazonBasics AA"]),
                "Amazon",
                rng.choice(["Electronics", "Electronics", "Health & Beauty", "Toys & Games"]),
                f"2018-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}T00:00:00.000Z",
                rng.choice(["TRUE", "FALSE", ""]),
                "" if rng.random() < 0.03 else str(rating),
                "" if rng.random() < 0.02 else _text(rng, rating),
                rng.choice(["Great", "Works", "", "Café-quality sound"]),
                rng.choice(["Joe", "Ana", "Zoë"]),
            ]
        )
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\r\n", quoting=csv.QUOTE_ALL)
        writer.writerow(header)
        writer.writerows(records)
    return path


def write_amazon_tsv_large(path: Path, rows: int, bad_line_after: int | None = None) -> Path:
    """A big Amazon-layout TSV (the demo generator's reviews, the dataset's 15-column shape less its vote columns),
    written in chunks; with ``bad_line_after``, one malformed row (a field too many) follows that many rows."""
    import pyarrow.csv as pacsv

    from lib.lake import demo

    options = pacsv.WriteOptions(delimiter="\t", quoting_style="none", include_header=False)
    with path.open("wb") as handle:
        handle.write(("\t".join(c.name for c in demo.RAW_COLUMNS) + "\n").encode())
        done = 0
        while done < rows:
            size = min(250_000, rows - done)
            if bad_line_after is not None and done <= bad_line_after < done + size:
                size = bad_line_after - done or size
            pacsv.write_csv(demo.raw_table(demo.generate(size, first_review=done)), handle, write_options=options)
            done += size
            if bad_line_after is not None and done == bad_line_after:
                handle.write(b"R_BAD\tB0\ta title\tBooks\t5\theadline\tbody\t2015-01-01\t1\t2\tY\tONE TOO MANY\n")
    return path
