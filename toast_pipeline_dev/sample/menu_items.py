"""What the menu lists: the hand-written best sellers, the long tail, and the menus beyond them.

A real menu is mostly items that sell now and then or never (a real bakery's AllItemsReport lists
~615 rows a day, two thirds unsold). Beside the hand-written items that carry most sales this
holds the tail of each group, the catering packs, the items a second menu lists again, the
online-ordering copies, the open items a server types in, and the modifier option groups.
`menu` lays them all out under their menus and groups and gives them IDs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class MenuItem:
    name: str
    group: str
    menu: str
    category: str
    price: int  # cents
    station: str
    popularity: int
    master: int | None = None  # index of the item whose Master ID this variant shares
    tags: str | None = None
    plu: str | None = None


MENU_ITEMS = (
    MenuItem("Wings, Buffalo", "Appetizers", "Food", "Food", 1299, "Fry", 6, tags="Spicy"),
    MenuItem("Loaded Nachos", "Appetizers", "Food", "Food", 1199, "Fry", 4),
    MenuItem("Fried Pickles", "Appetizers", "Food", "Food", 899, "Fry", 3, tags="Vegetarian"),
    MenuItem("Queso & Chips", "Appetizers", "Food", "Food", 799, "Cold", 3, tags="Vegetarian"),
    MenuItem('House "Special" Burger', "Burgers", "Food", "Food", 1599, "Grill", 8),
    MenuItem("Classic Cheeseburger", "Burgers", "Food", "Food", 1399, "Grill", 9),
    MenuItem("Smash Burger, Double", "Burgers", "Food", "Food", 1499, "Grill", 5),
    MenuItem("Veggie Burger", "Burgers", "Food", "Food", 1299, "Grill", 2, tags="Vegetarian"),
    MenuItem("Brisket Sandwich", "Sandwiches", "Food", "Food", 1549, "Grill", 5),
    MenuItem("Chicken Sandwich, Spicy", "Sandwiches", "Food", "Food", 1349, "Fry", 5, tags="Spicy"),
    MenuItem("Half Rack Ribs", "Entrees", "Food", "Food", 2199, "Grill", 4),
    MenuItem("Full Rack Ribs", "Entrees", "Food", "Food", 3299, "Grill", 2),
    MenuItem("Brisket Plate", "Entrees", "Food", "Food", 2399, "Grill", 4),
    MenuItem("Smoked Salmon", "Entrees", "Food", "Food", 2499, "Grill", 2, tags="Gluten Free"),
    MenuItem("Caesar Salad", "Salads", "Food", "Food", 1099, "Cold", 3),
    MenuItem("Cobb Salad", "Salads", "Food", "Food", 1399, "Cold", 2, tags="Gluten Free"),
    MenuItem("Fries", "Sides", "Food", "Food", 499, "Fry", 8, plu="4001"),
    MenuItem("Sweet Potato Fries", "Sides", "Food", "Food", 599, "Fry", 4, plu="4002"),
    MenuItem("Mac, Cheese & Bacon", "Sides", "Food", "Food", 699, "Fry", 4),
    MenuItem("Coleslaw", "Sides", "Food", "Food", 399, "Cold", 3, plu="4004"),
    MenuItem("Peach Cobbler", "Desserts", "Food", "Food", 799, "Dessert", 2),
    MenuItem("Chocolate Cake", "Desserts", "Food", "Food", 899, "Dessert", 2),
    MenuItem("Fountain Soda", "Soft Drinks", "Drinks", "Beverage", 299, "Bar", 9, plu="1001"),
    MenuItem("Iced Tea", "Soft Drinks", "Drinks", "Beverage", 299, "Bar", 6, plu="1002"),
    MenuItem("Lemonade", "Soft Drinks", "Drinks", "Beverage", 349, "Bar", 4, plu="1003"),
    MenuItem("Draft Lager 16oz", "Beer", "Drinks", "Beer", 650, "Bar", 6),
    MenuItem("IPA 16oz", "Beer", "Drinks", "Beer", 750, "Bar", 5),
    MenuItem("House Red, Glass", "Wine", "Drinks", "Wine", 900, "Bar", 3),
    MenuItem("Margarita", "Cocktails", "Drinks", "Liquor", 1100, "Bar", 5),
    MenuItem("Margarita (Happy Hour)", "Cocktails", "Drinks", "Liquor", 700, "Bar", 2, master=28),
    MenuItem("Old Fashioned", "Cocktails", "Drinks", "Liquor", 1300, "Bar", 3),
)


def _names(bases: Sequence[str], styles: Sequence[str]) -> tuple[str, ...]:
    return tuple(f"{base}, {style}" if style else base for base in bases for style in styles)


# The tail of each group and the menus beyond Food and Drinks, as (menu, group, category,
# station, modifier kind, price range in cents, names); prices spread over the range by position.
TAIL = (
    (
        "Food",
        "Appetizers",
        "Food",
        "Fry",
        "sauce",
        (799, 1699),
        _names(
            ("Smoked Wings", "Crispy Wings", "Cauliflower Bites", "Pork Belly Bites"),
            ("6 pc", "12 pc", "Cajun", "Honey Garlic", "Lemon Pepper", "Korean BBQ"),
        ),
    ),
    (
        "Food",
        "Burgers",
        "Food",
        "Grill",
        "burger",
        (1299, 1799),
        _names(
            (
                "Bacon Burger",
                "Mushroom Swiss Burger",
                "Jalapeño Burger",
                "Western Burger",
                "Black & Bleu Burger",
                "Pimento Cheese Burger",
            ),
            ("", "Double", "Sliders"),
        ),
    ),
    (
        "Food",
        "Sandwiches",
        "Food",
        "Grill",
        "plate",
        (1199, 1699),
        _names(
            ("Pulled Pork", "Smoked Turkey", "Hot Link", "Chopped Beef", "Burnt Ends", "Pastrami"),
            ("Sandwich", "Po' Boy", "Melt", "Wrap"),
        ),
    ),
    (
        "Food",
        "Entrees",
        "Food",
        "Grill",
        "plate",
        (1699, 3499),
        _names(
            ("Brisket", "Pulled Pork", "Half Chicken", "Spare Ribs", "Sausage", "Turkey"),
            ("Plate, 1 Meat", "Plate, 2 Meats", "by the Pound", "by the Half Pound"),
        ),
    ),
    (
        "Food",
        "Salads",
        "Food",
        "Cold",
        "salad",
        (999, 1599),
        _names(("Caesar", "Cobb", "Wedge", "Garden"), ("Brisket", "Chicken", "Salmon", "Tofu")),
    ),
    (
        "Food",
        "Sides",
        "Food",
        "Fry",
        None,
        (399, 1499),
        _names(
            (
                "Potato Salad",
                "Baked Beans",
                "Collard Greens",
                "Corn on the Cob",
                "Green Beans",
                "Cornbread",
                "Onion Rings",
                "Hush Puppies",
            ),
            ("Small", "Large", "Family"),
        ),
    ),
    (
        "Food",
        "Desserts",
        "Food",
        "Dessert",
        None,
        (699, 3999),
        _names(
            ("Pecan Pie", "Banana Pudding", "Key Lime Pie", "Bread Pudding", "Cheesecake"),
            ("Slice", "Whole"),
        ),
    ),
    (
        "Food",
        "Kids",
        "Food",
        "Grill",
        None,
        (699, 899),
        _names(
            (
                "Cheeseburger",
                "Chicken Tenders",
                "Mac & Cheese",
                "Grilled Cheese",
                "Corn Dog",
                "Sliders",
            ),
            ("Kids",),
        ),
    ),
    (
        "Drinks",
        "Soft Drinks",
        "Beverage",
        "Bar",
        None,
        (249, 549),
        _names(
            (
                "Root Beer",
                "Sweet Tea",
                "Arnold Palmer",
                "Ginger Ale",
                "Club Soda",
                "Cold Brew",
                "Hot Coffee",
                "Orange Juice",
            ),
            ("Small", "Large"),
        ),
    ),
    (
        "Drinks",
        "Beer",
        "Beer",
        "Bar",
        None,
        (500, 1999),
        _names(
            (
                "Shiner Bock",
                "Lone Star",
                "Modelo",
                "Blue Moon",
                "Michelob Ultra",
                "Stella Artois",
                "Guinness",
                "Seasonal Ale",
            ),
            ("Draft 16oz", "Pitcher", "Bottle", "Can"),
        ),
    ),
    (
        "Drinks",
        "Wine",
        "Wine",
        "Bar",
        None,
        (900, 5900),
        _names(
            (
                "Cabernet",
                "Pinot Noir",
                "Malbec",
                "Chardonnay",
                "Sauvignon Blanc",
                "Rosé",
                "Prosecco",
            ),
            ("Glass", "Half Carafe", "Bottle"),
        ),
    ),
    (
        "Drinks",
        "Cocktails",
        "Liquor",
        "Bar",
        "spirit",
        (1000, 1599),
        _names(
            (
                "Paloma",
                "Mule",
                "Ranch Water",
                "Whiskey Sour",
                "Mojito",
                "Bloody Mary",
                "Espresso Martini",
                "Manhattan",
            ),
            ("", "Top Shelf"),
        ),
    ),
    (
        "Drinks",
        "Whiskey",
        "Liquor",
        "Bar",
        "spirit",
        (900, 4500),
        _names(
            (
                "Buffalo Trace",
                "Maker's Mark",
                "Woodford Reserve",
                "Eagle Rare",
                "Blanton's",
                "Four Roses",
                "Knob Creek",
                "Wild Turkey 101",
                "Elijah Craig",
                "Old Forester",
                "Rittenhouse Rye",
                "Bulleit Rye",
                "Jameson",
                "Lagavulin 16",
                "Macallan 12",
                "Balvenie 12",
            ),
            ("1.5oz", "2oz", "Neat Pour", "Flight"),
        ),
    ),
    (
        "Drinks",
        "Tequila & Mezcal",
        "Liquor",
        "Bar",
        "spirit",
        (900, 3500),
        _names(
            (
                "Espolon Blanco",
                "Casamigos Reposado",
                "Don Julio 1942",
                "Patrón Silver",
                "Fortaleza Añejo",
                "Del Maguey Vida",
                "Clase Azul",
            ),
            ("1.5oz", "2oz"),
        ),
    ),
    (
        "Weekend Brunch",
        "Brunch Plates",
        "Food",
        "Grill",
        None,
        (1199, 1899),
        _names(
            (
                "Chicken & Waffles",
                "Brisket Hash",
                "Biscuits & Gravy",
                "Breakfast Tacos",
                "Shrimp & Grits",
                "French Toast",
                "Huevos Rancheros",
                "Smoked Salmon Benedict",
            ),
            ("", "Half"),
        ),
    ),
    (
        "Weekend Brunch",
        "Brunch Drinks",
        "Liquor",
        "Bar",
        None,
        (800, 3200),
        _names(("Mimosa", "Bellini", "Michelada", "Brunch Punch"), ("Glass", "Carafe")),
    ),
    (
        "Merchandise",
        "Merch",
        "Retail",
        "Cold",
        None,
        (800, 4500),
        _names(
            ("T-Shirt", "Hoodie", "Trucker Hat", "Dry Rub, 12oz", "BBQ Sauce, 16oz", "Hot Sauce"),
            ("",),
        ),
    ),
    (
        "Holiday Specials",
        "Thanksgiving",
        "Food",
        "Grill",
        None,
        (2999, 11999),
        _names(
            (
                "Smoked Turkey, Whole",
                "Turkey Breast",
                "Cornbread Dressing",
                "Pecan Pie, Whole",
                "Cranberry Relish",
                "Sweet Potato Casserole",
            ),
            ("",),
        ),
    ),
    (
        "Holiday Specials",
        "Christmas",
        "Food",
        "Grill",
        None,
        (2999, 14999),
        _names(
            ("Prime Rib, Whole", "Honey Ham", "Brisket, Whole", "Smoked Prime Rib, Half"), ("",)
        ),
    ),
)
CATERING_TAIL = (
    (
        "Catering",
        "Catering Packs",
        "Catering",
        "Grill",
        None,
        (8999, 34999),
        _names(
            ("Brisket Pack", "Pulled Pork Pack", "Rib Pack", "Chicken Pack", "Combo Pack"),
            ("Serves 10", "Serves 20", "Serves 40"),
        ),
    ),
    (
        "Catering",
        "Catering Sides",
        "Catering",
        "Cold",
        None,
        (2499, 6999),
        _names(
            (
                "Baked Beans",
                "Potato Salad",
                "Mac & Cheese",
                "Coleslaw",
                "Banana Pudding",
                "Sweet Tea",
            ),
            ("Half Pan", "Full Pan"),
        ),
    ),
)
# Items also listed on a second menu under the same IDs (the report lists them under each).
SHARED_ITEMS = (
    (
        "Happy Hour",
        "HH Bites",
        ("Wings, Buffalo", "Loaded Nachos", "Fried Pickles", "Queso & Chips"),
    ),
    (
        "Happy Hour",
        "HH Drinks",
        ("Draft Lager 16oz", "IPA 16oz", "House Red, Glass", "Margarita (Happy Hour)"),
    ),
    (
        "Online Ordering",
        "Sides (OL)",
        ("Fries", "Sweet Potato Fries", "Mac, Cheese & Bacon", "Coleslaw"),
    ),
)
# Online-ordering copies: their own items with their own IDs, as Toast's "(OL)" items are.
ONLINE_COPIES = (
    ("Burgers (OL)", "Burgers"),
    ("Sandwiches (OL)", "Sandwiches"),
    ("Entrees (OL)", "Entrees"),
    ("Salads (OL)", "Salads"),
)
GIFT_CARDS_MENU = "Gift Cards"
OPEN_ITEMS_MENU = "Open Items"
OPEN_ITEM_GROUPS = ("Open Item", "Open Catering Item")
# Names a server types for an open item; what the report lists under Open Items when one sells.
OPEN_ITEM_NAMES = (
    "Side Of Bacon",
    "Extra Sauce",
    "Birthday Candle",
    "Corkage Fee",
    "Smoked Sausage Link",
)
OPEN_ITEM_MASTER_ID = "-1"
OPEN_ITEM_ITEM_ID = "4611686018427387903"  # 2**62 - 1: Toast's synthetic Item ID for open items
# What a server charges for each open item above, in cents.
OPEN_ITEM_PRICES = (200, 150, 100, 1500, 399)

# The modifier kind of a hand-written item, by its group.
HAND_MODIFIERS = {
    "Burgers": "burger",
    "Sandwiches": "plate",
    "Entrees": "plate",
    "Salads": "salad",
    "Appetizers": "sauce",
    "Cocktails": "spirit",
}

# Modifier option groups by kind: (option group, chance per line, options (name, price in cents)).
# A priced option adds to the item's Gross Price, as Toast's does.
MODIFIER_GROUPS = {
    "burger": (
        (
            "Temperature",
            0.9,
            (("Medium Rare", 0), ("Medium", 0), ("Medium Well", 0), ("Well Done", 0)),
        ),
        (
            "Add-Ons",
            0.25,
            (("Add Bacon", 200), ("Add Egg", 150), ("Add Avocado", 250), ("Extra Cheese", 100)),
        ),
    ),
    "plate": (
        (
            "Sauce",
            0.6,
            (("Sweet BBQ", 0), ("Spicy BBQ", 0), ("Mustard BBQ", 0), ("Sauce on the Side", 0)),
        ),
        (
            "Side Choice",
            0.3,
            (("Side: Fries", 0), ("Side: Coleslaw", 0), ("Side: Mac & Cheese", 150)),
        ),
    ),
    "salad": (
        ("Dressing", 0.9, (("Ranch", 0), ("Blue Cheese", 0), ("Caesar", 0), ("Vinaigrette", 0))),
    ),
    "sauce": (("Sauce", 0.5, (("Ranch", 0), ("Blue Cheese", 0), ("Extra Sauce", 75))),),
    "spirit": (
        ("Style", 0.7, (("Neat", 0), ("Rocks", 0), ("Up", 0))),
        ("Upgrade", 0.1, (("Top Shelf", 300), ("Double", 500))),
    ),
}
