"""The demo lake: synthetic but realistic product reviews, stored as the course stores them.

* raw zone: ``raw/reviews/amazon_reviews_us_<Category>_v1_00.tsv`` — tab-separated, as the files arrived;
* curated zone: ``curated/reviews/product_category=<Category>/part-0.parquet`` — typed, Hive-partitioned;
* catalog: ``demo.reviews_raw`` (TSV) and ``demo.reviews`` (Parquet, partitioned by product_category).

Everything is drawn from one seeded generator, so the same ``rows`` always gives the same lake. Ratings are
skewed toward 5 stars and differ by category; the review text follows the rating through phrases whose
sentiment is clear, mixed with neutral and contrary ones, negations ("Not bad at all."), sarcasm ("Great, it
broke on day two.") and mixed reviews, so a classifier can learn it but not trivially.

It is as messy as real review files (see :func:`_make_messy`): texts missing on a few percent of reviews and
blank on some, empty headlines, the dataset's ``<br />`` line breaks and HTML entities, emoji and accented text,
line breaks inside the text (written as ``<br />`` in the raw TSV, which has no quoting), exact duplicate
reviews, ratings that disagree with their text now and then, and three categories with ten reviews or fewer.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from lib.backends.base import Backend
from lib.catalog import Column, delimited_table, parquet_table
from lib.errors import LakeLensError

Progress = Callable[[float, str], None]

DATABASE = "demo"
RAW_PREFIX = "raw/reviews/"
CURATED_PREFIX = "curated/reviews/"
SEED = 20_210_601

# (category, share weight, mean-rating shift): a realistic skew in volume and in satisfaction.
CATEGORIES: list[tuple[str, float, float]] = [
    ("Books", 20.0, 0.25),
    ("Digital_Ebook_Purchase", 15.0, 0.20),
    ("Wireless", 11.0, -0.35),
    ("PC", 8.0, -0.15),
    ("Home", 7.0, 0.05),
    ("Apparel", 6.0, -0.10),
    ("Health_Personal_Care", 5.5, 0.0),
    ("Beauty", 5.0, 0.05),
    ("Video_DVD", 4.5, 0.15),
    ("Mobile_Apps", 4.0, -0.45),
    ("Kitchen", 3.5, 0.10),
    ("Toys", 3.0, 0.15),
    ("Sports", 2.5, 0.05),
    ("Music", 2.0, 0.30),
    ("Shoes", 1.5, -0.05),
    ("Electronics", 1.2, -0.25),
    ("Grocery", 0.8, 0.20),
    ("Gift_Card", 0.3, 0.40),
]

_BASE_RATING = np.array([0.075, 0.045, 0.08, 0.18, 0.62])

_POSITIVE = [
    "Not bad at all.",  # negation of a negative phrase
    "I can't complain, no problems whatsoever.",
    "Never had a single issue with it.",
    "Works perfectly and was easy to set up.",
    "Exceeded my expectations.",
    "I highly recommend it.",
    "Great value for the money.",
    "Absolutely love it.",
    "Best purchase I have made this year.",
    "The quality is excellent.",
    "Does exactly what it promises.",
    "My family loves it.",
    "I would buy it again without hesitation.",
    "Fantastic, sturdy and well made.",
    "It arrived early and works great.",
    "Five stars from me.",
    "Really happy with this one.",
    "Impressive for the price.",
    "A wonderful read from start to finish.",
    "Comfortable and fits well.",
    "Battery life is amazing.",
    "Beautifully designed.",
    "It has held up well after months of use.",
    "Customer service was helpful and quick.",
    "Love the colour and the finish.",
    "Easy to use, even for my parents.",
    "Perfect gift, they were delighted.",
    "Solid and reliable.",
    "Could not be happier.",
    "Brilliant, just brilliant.",
    "Highly satisfied with the performance.",
]
_NEGATIVE = [
    "Great, it broke on day two.",  # sarcasm: positive words, negative meaning
    "Just perfect, another gadget that does nothing.",
    "Oh wonderful, it arrived in pieces.",
    "Not as good as I hoped.",  # negation of a positive phrase
    "I would not call it great.",
    "Not worth it.",
    "Stopped working after a week.",
    "Complete waste of money.",
    "Very disappointed with the quality.",
    "Poorly made and flimsy.",
    "It broke the first time I used it.",
    "Would not recommend this to anyone.",
    "Returned it immediately.",
    "The description is misleading.",
    "Cheap materials, it fell apart.",
    "Terrible customer service.",
    "Does not work as advertised.",
    "Worst purchase I have made.",
    "The battery dies within an hour.",
    "Arrived damaged and missing parts.",
    "Avoid this product.",
    "Boring and badly written.",
    "Far too small and uncomfortable.",
    "It crashes constantly.",
    "Save your money and buy something else.",
    "Frustrating to set up and never worked right.",
    "The smell was awful.",
    "It overheats and shuts down.",
    "Refund requested, still waiting.",
    "Not worth half the price.",
]
_NEUTRAL = [
    "Great screen, terrible battery.",  # mixed
    "I love the design but hate the software.",
    "It is okay for the price.",
    "Does the job but nothing special.",
    "Average quality.",
    "I have mixed feelings about it.",
    "Some parts are good, others are not.",
    "It is fine, I guess.",
    "Not bad, not great.",
    "Decent, but I expected a bit more.",
    "It works most of the time.",
    "Acceptable for occasional use.",
    "Shipping took longer than expected.",
    "The instructions could be clearer.",
    "Smaller than it looks in the pictures.",
    "It is what it is.",
    "Three stars feels about right.",
]
_FILLER = [
    "I bought this for my daughter.",
    "I ordered it after reading other reviews.",
    "We use it every day.",
    "This is my second one.",
    "I have had it for about three months now.",
    "It came in a plain box.",
    "I was looking for something like this for a while.",
    "My husband picked it out.",
    "I compared several brands before choosing.",
    "It replaced an older model.",
    "I use it at work.",
    "Bought it on sale.",
    "The package arrived on Tuesday.",
    "I read it on a long flight.",
    "I tried it over the weekend.",
    "Got it as a birthday present.",
]
_HEADLINES = {
    1: ["One Star", "Terrible", "Do not buy", "Waste of money", "Broke quickly", "Very disappointed"],
    2: ["Two Stars", "Not great", "Disappointing", "Could be better", "Meh", "Poor quality"],
    3: ["Three Stars", "Okay", "Average", "It is fine", "Mixed feelings", "Decent"],
    4: ["Four Stars", "Pretty good", "Good value", "Nice", "Works well", "Happy with it"],
    5: ["Five Stars", "Excellent", "Love it", "Great product", "Highly recommend", "Perfect"],
}
# P(sentence kind | rating): positive, negative, neutral, filler.
_KIND_BY_RATING = np.array(
    [
        [0.05, 0.62, 0.10, 0.23],
        [0.08, 0.45, 0.25, 0.22],
        [0.18, 0.17, 0.43, 0.22],
        [0.50, 0.06, 0.19, 0.25],
        [0.64, 0.03, 0.08, 0.25],
    ]
)
_ADJECTIVES = [
    "Classic",
    "Deluxe",
    "Compact",
    "Premium",
    "Essential",
    "Ultra",
    "Smart",
    "Everyday",
    "Pro",
    "Mini",
    "Organic",
    "Portable",
]
_NOUNS = {
    "Books": "Novel",
    "Digital_Ebook_Purchase": "Ebook",
    "Wireless": "Phone Case",
    "PC": "Keyboard",
    "Home": "Lamp",
    "Apparel": "Jacket",
    "Health_Personal_Care": "Vitamins",
    "Beauty": "Face Cream",
    "Video_DVD": "Box Set",
    "Mobile_Apps": "App",
    "Kitchen": "Blender",
    "Toys": "Puzzle",
    "Sports": "Yoga Mat",
    "Music": "Album",
    "Shoes": "Sneakers",
    "Electronics": "Headphones",
    "Grocery": "Coffee",
    "Gift_Card": "Gift Card",
    "Digital_Software": "Software",
    "Personal_Care_Appliances": "Shaver",
    "Major_Appliances": "Fridge",
}
# Categories with ten reviews or fewer, as the real data has them (the course drops them): name, reviews.
SMALL_CATEGORIES: list[tuple[str, int]] = [
    ("Digital_Software", 7),
    ("Personal_Care_Appliances", 4),
    ("Major_Appliances", 9),
]
SMALL_CATEGORIES_FROM = 2_000  # a demo lake with fewer reviews has none (too small to tell)
FILE_CATEGORY = "_file_category"  # which raw file a review is in (its category may be missing): not a table column
HIVE_NULL = "__HIVE_DEFAULT_PARTITION__"  # Hive's folder for a NULL partition value, read as NULL on both backends
# The raw zone as the dataset's TSVs are: tab-separated, nothing quoted, the header line too.
TSV = pacsv.WriteOptions(delimiter="\t", quoting_style="none", quoting_header="none")


def split_zones(table: pa.Table) -> tuple[list[tuple[str, pa.Table]], list[tuple[str, pa.Table]]]:
    """One chunk of reviews as (raw file category, its TSV rows) and (partition folder value, its Parquet rows):
    a review without a category stays in its category's TSV, with the field empty, and goes to Hive's NULL folder."""
    raw, curated = raw_table(table), _curated_table(table)
    files = table[FILE_CATEGORY].to_numpy(zero_copy_only=False)
    values = np.array([HIVE_NULL if v is None else v for v in table["product_category"].to_pylist()], dtype=object)
    by_file = [(name, raw.filter(pa.array(files == name))) for name in sorted(set(files.tolist()))]
    by_folder = [(name, curated.filter(pa.array(values == name))) for name in sorted(set(values.tolist()))]
    return by_file, by_folder


COLUMN_COMMENTS = {
    "review_id": "Unique id of the review",
    "product_id": "Id of the reviewed product (ASIN style)",
    "product_title": "Title of the product",
    "product_category": "Broad product category, used to group reviews",
    "star_rating": "Rating from 1 to 5 stars",
    "review_headline": "Title of the review",
    "review_body": "Text of the review",
    "review_date": "Date the review was written",
    "helpful_votes": "Number of helpful votes",
    "total_votes": "Number of total votes the review received",
    "verified_purchase": "The review is on a verified purchase",
}


CHUNK_ROWS = 1_000_000


def generate(rows: int, seed: int = SEED, first_review: int = 0) -> pa.Table:
    """``rows`` synthetic reviews as an Arrow table (curated types).

    ``first_review`` numbers the reviews of a later chunk so that review ids stay unique across chunks.
    """
    if rows <= 0:
        raise LakeLensError("The demo lake needs at least one review; pass --rows 1 or more.")
    rng = np.random.default_rng([seed, first_review])
    names = [c[0] for c in CATEGORIES]
    weights = np.array([c[1] for c in CATEGORIES])
    shifts = np.array([c[2] for c in CATEGORIES])
    category = rng.choice(len(names), size=rows, p=weights / weights.sum())

    # Ratings: tilt the base distribution toward 5 (positive shift) or 1 (negative) per category.
    tilt = np.exp(np.outer(shifts, np.arange(5) - 2.0))
    by_category = _BASE_RATING * tilt
    by_category /= by_category.sum(axis=1, keepdims=True)
    cumulative = by_category.cumsum(axis=1)[category]
    rating = (rng.random(rows)[:, None] > cumulative).sum(axis=1) + 1
    rating = np.minimum(rating, 5).astype(np.int32)

    body = _bodies(rng, rating)
    disagree = rng.random(rows) < 0.03  # the stars say the opposite of the text now and then
    rating = np.where(disagree, 6 - rating, rating).astype(np.int32)
    headline = _pick(rng, rating, _HEADLINES)

    # Products: a popularity-skewed pool per category.
    per_category = 400
    product_rank = np.minimum(rng.zipf(1.3, size=rows) - 1, per_category - 1)
    product_number = category * per_category + product_rank
    product_id = np.char.add("B0", np.char.zfill(np.char.mod("%d", product_number * 7919 % 10**8), 8))
    adjective = np.array(_ADJECTIVES)[product_number % len(_ADJECTIVES)]
    noun = np.array([_NOUNS[n] for n in names])[category]
    title = np.char.add(np.char.add(np.char.add(adjective, " "), noun), np.char.mod(" %d", product_rank + 1))

    # Dates: 2012-01-01 .. 2015-08-31, more reviews in later years.
    start = np.datetime64("2012-01-01")
    span = int((np.datetime64("2015-08-31") - start).astype(int))
    offsets = (np.sqrt(rng.random(rows)) * span).astype(np.int64)
    review_date = start + offsets.astype("timedelta64[D]")

    total_votes = np.minimum(rng.geometric(0.55, size=rows) - 1 + (rating <= 2) * rng.poisson(1.5, size=rows), 500)
    helpful = np.floor(total_votes * rng.beta(4, 2, size=rows)).astype(np.int32)
    verified = rng.random(rows) < 0.82
    review_number = (first_review + rng.permutation(rows).astype(np.int64)) * 104_729 + 1_000_003
    review_id = np.char.add("R", np.char.zfill(np.char.mod("%X", review_number), 13))
    category_name = np.array(names, dtype=object)[category]
    if first_review == 0 and rows >= SMALL_CATEGORIES_FROM:
        small = [name for name, count in SMALL_CATEGORIES for _ in range(count)]
        category_name[: len(small)] = small

    table = pa.table(
        {
            "review_id": pa.array(review_id.astype(str)),
            "product_id": pa.array(product_id.astype(str)),
            "product_title": pa.array(title.astype(str)),
            "product_category": pa.array(category_name.tolist(), pa.string()),
            "star_rating": pa.array(rating, pa.int32()),
            "review_headline": pa.array(headline),
            "review_body": pa.array(body),
            "review_date": pa.array(review_date.astype("datetime64[D]"), pa.date32()),
            "helpful_votes": pa.array(helpful, pa.int32()),
            "total_votes": pa.array(total_votes.astype(np.int32), pa.int32()),
            "verified_purchase": pa.array(verified, pa.bool_()),
        }
    )
    return _make_messy(rng, table)


_EXTRAS = [" 😍", " 👍👍", " Très bien, je recommande !", " Café-quality, über good.", " ¡Excelente!"]


def _make_messy(rng: np.random.Generator, table: pa.Table) -> pa.Table:
    """What real review files hold and a clean generator never writes (shares of the reviews in comments)."""
    rows = table.num_rows
    body = np.array(table["review_body"].to_pylist(), dtype=object)
    headline = np.array(table["review_headline"].to_pylist(), dtype=object)
    roll = rng.random(rows)
    for index in np.flatnonzero((roll >= 0.04) & (roll < 0.10)):  # 6 %: the dataset's HTML line breaks
        body[index] = body[index].replace(". ", ".<br /><br />", 1)
    for index in np.flatnonzero((roll >= 0.10) & (roll < 0.12)):  # 2 %: HTML entities
        body[index] = body[index].replace(" it ", " &#34;it&#34; ", 1).replace(" and ", " &amp; ", 1)
    for index in np.flatnonzero((roll >= 0.12) & (roll < 0.14)):  # 2 %: emoji and accented text
        body[index] = body[index] + _EXTRAS[index % len(_EXTRAS)]
    for index in np.flatnonzero((roll >= 0.14) & (roll < 0.15)):  # 1 %: a line break inside the text
        body[index] = body[index].replace(". ", ".\n", 1)
    body[roll < 0.035] = None  # 3.5 %: no review text
    body[(roll >= 0.035) & (roll < 0.04)] = "  "  # 0.5 %: a text of spaces only, missing all the same
    headline[rng.random(rows) < 0.04] = ""  # 4 %: empty headlines
    category = np.array(table["product_category"].to_pylist(), dtype=object)
    table = table.append_column(FILE_CATEGORY, pa.array(category.tolist(), pa.string()))  # the raw file it is in
    lost = rng.random(rows) < 0.005  # 0.5 %: no category (an empty field in the TSV, a NULL partition in Parquet)
    lost[: sum(n for _, n in SMALL_CATEGORIES)] = False  # the small categories keep their few reviews
    category[lost] = None
    table = table.set_column(
        table.schema.get_field_index("product_category"), "product_category", pa.array(category.tolist(), pa.string())
    )
    table = table.set_column(table.schema.get_field_index("review_body"), "review_body", pa.array(body, pa.string()))
    table = table.set_column(
        table.schema.get_field_index("review_headline"), "review_headline", pa.array(headline, pa.string())
    )
    # 0.5 %: exact duplicates (the same review twice, id and all), in place of other reviews
    order = np.arange(rows)
    copies = np.flatnonzero(rng.random(rows) < 0.005)
    if len(copies) and rows > 1:
        order[copies] = (copies + 1 + rng.integers(0, 50, len(copies))) % rows
    return table.take(pa.array(order))


def _pick(rng: np.random.Generator, rating: np.ndarray, pools: dict[int, list[str]]) -> np.ndarray:
    out = np.empty(len(rating), dtype=object)
    for stars, pool in pools.items():
        mask = rating == stars
        out[mask] = np.array(pool, dtype=object)[rng.integers(0, len(pool), size=int(mask.sum()))]
    return out


def _bodies(rng: np.random.Generator, rating: np.ndarray) -> list[str]:
    rows = len(rating)
    # Sentences per review: long-tailed, 1 to 40 (median about 4, so ~30 words).
    count = np.clip(np.round(rng.lognormal(1.3, 0.75, size=rows)), 1, 40).astype(np.int64)
    total = int(count.sum())
    owner_rating = np.repeat(rating, count)
    kind_cumulative = _KIND_BY_RATING.cumsum(axis=1)[owner_rating - 1]
    kind = (rng.random(total)[:, None] > kind_cumulative).sum(axis=1)
    pools = [_POSITIVE, _NEGATIVE, _NEUTRAL, _FILLER]
    offsets = np.cumsum([0] + [len(p) for p in pools])
    flat = np.array([s for pool in pools for s in pool], dtype=object)
    sizes = np.array([len(p) for p in pools])
    choice = offsets[kind] + (rng.random(total) * sizes[kind]).astype(np.int64)
    sentences = flat[choice].tolist()
    ends = np.cumsum(count).tolist()
    starts = [0, *ends[:-1]]
    return [" ".join(sentences[a:b]) for a, b in zip(starts, ends, strict=True)]


CURATED_COLUMNS = [
    Column("review_id", "string", COLUMN_COMMENTS["review_id"]),
    Column("product_id", "string", COLUMN_COMMENTS["product_id"]),
    Column("product_title", "string", COLUMN_COMMENTS["product_title"]),
    Column("star_rating", "int", COLUMN_COMMENTS["star_rating"]),
    Column("review_headline", "string", COLUMN_COMMENTS["review_headline"]),
    Column("review_body", "string", COLUMN_COMMENTS["review_body"]),
    Column("review_date", "date", COLUMN_COMMENTS["review_date"]),
    Column("helpful_votes", "int", COLUMN_COMMENTS["helpful_votes"]),
    Column("total_votes", "int", COLUMN_COMMENTS["total_votes"]),
    Column("verified_purchase", "boolean", COLUMN_COMMENTS["verified_purchase"]),
    Column("review_words", "int", "Words in review_body (spaces + 1), derived at curation time"),
]
RAW_COLUMNS = [
    Column(name, {"star_rating": "int", "helpful_votes": "int", "total_votes": "int"}.get(name, "string"), comment)
    for name, comment in COLUMN_COMMENTS.items()
]


def _curated_table(table: pa.Table) -> pa.Table:
    """The curated zone's columns: typed, plus the word count derived once here instead of on every page load."""
    import pyarrow.compute as pc

    body = table["review_body"]
    spaces = pc.subtract(pc.utf8_length(body), pc.utf8_length(pc.replace_substring(body, " ", "")))
    # cardinality(split(body, ' ')) as the course counts it; no text (NULL or only white space) has no count
    has_text = pc.match_substring_regex(body, r"\S")
    words = pc.if_else(has_text, pc.add(spaces, 1), pa.scalar(None, pa.int64())).cast(pa.int32())
    return table.append_column("review_words", words).select([c.name for c in CURATED_COLUMNS])


def raw_table(table: pa.Table) -> pa.Table:
    """The raw zone's view of the data: everything as the TSV export writes it (Y/N, ISO dates)."""
    verified = pa.array(np.where(table["verified_purchase"].to_numpy(zero_copy_only=False), "Y", "N"))
    raw = table.set_column(table.schema.get_field_index("verified_purchase"), "verified_purchase", verified)
    raw = raw.set_column(raw.schema.get_field_index("review_date"), "review_date", raw["review_date"].cast(pa.string()))
    import pyarrow.compute as pc

    # the TSV has no quoting: a line break inside the text is written as the dataset writes it, <br />
    body = pc.replace_substring(raw["review_body"], "\n", "<br />")
    raw = raw.set_column(raw.schema.get_field_index("review_body"), "review_body", body)
    return raw.select(list(COLUMN_COMMENTS))


def build(backend: Backend, rows: int, progress: Progress | None = None, seed: int = SEED) -> None:
    """Build (or rebuild) the demo lake: files first, then the catalog.

    The files are written in a scratch folder (on the lake's disk where the lake is a folder, so moving them in is
    a rename), then each zone replaces the lake's through ``backend.replace_folder`` (on aws: S3 objects written
    one by one, the ones left from an earlier, bigger demo deleted), and the tables are registered in the
    backend's catalog (Glue on aws), so the same pages work on both.
    """
    report = progress or (lambda fraction, message: None)
    scratch = backend.scratch_dir(f".lakelens-tmp-demo-{uuid.uuid4().hex[:8]}-")
    try:
        raw_dir = scratch / RAW_PREFIX
        curated_dir = scratch / CURATED_PREFIX
        raw_dir.mkdir(parents=True)
        raw_writers: dict[str, pacsv.CSVWriter] = {}
        chunks = list(range(0, rows, CHUNK_ROWS))
        try:
            for number, start in enumerate(chunks):
                size = min(CHUNK_ROWS, rows - start)
                share = 1 / len(chunks)
                done = number * share
                report(done + 0.05 * share, f"Generating reviews {start + 1:,}–{start + size:,} of {rows:,}")
                table = generate(size, seed, first_review=start)
                by_file, by_folder = split_zones(table)
                report(done + 0.5 * share, "Writing the raw zone (TSV) and the curated zone (Parquet)")
                for name, part in by_file:
                    if name not in raw_writers:
                        path = raw_dir / f"amazon_reviews_us_{name}_v1_00.tsv"
                        raw_writers[name] = pacsv.CSVWriter(path, part.schema, write_options=TSV)
                    raw_writers[name].write_table(part)
                for name, part in by_folder:
                    folder = curated_dir / f"product_category={name}"
                    folder.mkdir(parents=True, exist_ok=True)
                    pq.write_table(
                        part, folder / f"part-{number}.parquet", row_group_size=128_000, compression="snappy"
                    )
                report(done + share, f"{start + size:,} reviews written")
        finally:
            for writer in raw_writers.values():
                writer.close()
        for prefix in (RAW_PREFIX, CURATED_PREFIX):
            backend.replace_folder(prefix, scratch / prefix)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    _register(backend, rows, seed, report)
    report(1.0, "Demo lake ready")


def _register(backend: Backend, rows: int, seed: int, report: Progress) -> None:
    """demo.reviews_raw (TSV) and demo.reviews (Parquet, partitioned) in the backend's catalog, replacing any."""

    report(0.97, "Registering demo.reviews_raw and demo.reviews")
    backend.create_database(DATABASE, "Demo lake: synthetic product reviews built by LakeLens")
    backend.register_table(
        delimited_table(
            DATABASE,
            "reviews_raw",
            RAW_COLUMNS,
            backend.location(RAW_PREFIX),
            delimiter="\t",
            description=f"Raw zone: {rows:,} reviews as tab-separated files, one per category",
        ),
        replace=True,
    )
    backend.register_table(
        parquet_table(
            DATABASE,
            "reviews",
            CURATED_COLUMNS,
            backend.location(CURATED_PREFIX),
            partition_keys=[Column("product_category", "string", COLUMN_COMMENTS["product_category"])],
            description=f"Curated zone: {rows:,} reviews as Parquet, partitioned by product_category",
            parameters={"lakelens.demo_rows": str(rows), "lakelens.demo_seed": str(seed)},
        ),
        replace=True,
    )


def exists(backend: Backend) -> bool:
    """Is the demo lake there (both tables registered)?"""
    try:
        names = {t.name for t in backend.list_tables(DATABASE)}
    except LakeLensError:
        return False
    return {"reviews", "reviews_raw"} <= names


def lake_is_empty(root: Path) -> bool:
    return not root.exists() or not any(p for p in root.iterdir() if not p.name.startswith("."))
