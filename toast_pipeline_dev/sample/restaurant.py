"""The restaurant the sample export comes from: Smoke & Barrel, a barbecue place with a bar.

Its location, sales tax and automatic gratuity, the hour its business day closes out, its staff
and their jobs, its regulars, and the ways its guests dine, pay and get discounts. All of it is
the same every day; what a date's guests do with it is drawn in `sales`.
"""

from __future__ import annotations

import random

import polars as pl

from toast_pipeline_dev.sample.ids import guid, static_id

LOCATION_NAME = "Smoke & Barrel"
LOCATION_CODE = "300"
TAX_RATE_BASIS_POINTS = 825  # 8.25 %
AUTO_GRATUITY_PERCENT = 18
AUTO_GRATUITY_GUESTS = 6
CLOSEOUT_HOUR = 4
BAR_STATION = "Bar"

SERVERS = (
    "Smith, John",
    "Maria Garcia",
    "O'Neil, Kate",
    "Nguyen, Tran",
    'Lee, "Sunny"',
    "DeShawn Carter",
    "Patel, Priya",
    "Alex Romero",
)
MANAGERS = ("Brooks, Dana", "Manny Ortiz")
KITCHEN_STAFF = ("Expo", "Rivera, Luis", "Kim Park", "Jones, Dee")
_FIRST = ("John", "Maria", "Aisha", "Wei", "Carlos", "Emily", "Sam", "Olga", "Tyrone", "Hana")
_LAST = (
    "Smith",
    "Garcia",
    "Johnson",
    "Chen",
    "Lopez",
    "Brown",
    "Kowalski",
    "Okafor",
    "Miller",
    "Sato",
)
CUSTOMERS = tuple(f"{last}, {first}" for last in _LAST for first in _FIRST[:6]) + (
    'Big "Mike" Russo',
    'The "Tuesday" Crew',
    "Party of 12, Birthday",
)
CUSTOMER_EMAILS = tuple(
    name.split(", ")[1].lower() + "." + name.split(", ")[0].lower() + "@example.com"
    if ", " in name
    else None
    for name in CUSTOMERS
)

DINING_OPTIONS = ("Dine In", "Take Out", "Delivery", "Online Ordering")
DINING_CUM_WEIGHTS = (65, 85, 93, 100)
AREAS = (("Dining Room", "", 30), ("Bar", "B", 12), ("Patio", "P", 10))
DISCOUNTS = ((10, "Happy Hour"), (20, "Loyalty"), (50, "Manager Comp"), (100, "Employee Meal"))
TIP_PERCENTS = (0, 15, 18, 18, 20, 20, 22, 25)
CARD_TYPES = ("Visa", "Visa", "Mastercard", "Amex", "Discover")
DELIVERY_PARTNERS = ("DoorDash", "Uber Eats")

CUSTOMER_IDS = tuple(static_id(4, i) for i in range(len(CUSTOMERS)))

JOBS = (
    # (job code, title, hourly wage in cents or None for salaried, staff)
    ("FOH", "Server", 1100, SERVERS),
    ("BOH", "Cook", 1750, KITCHEN_STAFF[1:]),
    ("BOH", "Expo", 1600, KITCHEN_STAFF[:1]),
    ("MGMT", "General Manager", None, MANAGERS),
)
STAFF = tuple((job, person) for job, (_, _, _, people) in enumerate(JOBS) for person in people)
STAFF_GUIDS = tuple(guid(random.Random(f"toast-sample:staff:{k}")) for k in range(len(STAFF)))
JOB_GUIDS = tuple(guid(random.Random(f"toast-sample:job:{k}")) for k in range(len(JOBS)))


def tax(cents: pl.Expr) -> pl.Expr:
    """The sales tax on an amount in cents, rounded half up to the cent."""
    return (cents * TAX_RATE_BASIS_POINTS + 5_000) // 10_000
