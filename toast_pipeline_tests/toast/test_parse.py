from datetime import date, datetime, time
from decimal import Decimal

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from toast_pipeline.toast.parse import ExportParseError, parse_file
from toast_pipeline.toast.specs import (
    ALL_ITEMS_REPORT,
    CHECK_DETAILS,
    ITEM_SELECTION_DETAILS,
    KITCHEN_TIMINGS,
    ORDER_DETAILS,
    TABLE_SPECS,
)

SOURCE = "185129/20240404/OrderDetails.csv"


def order_frame(csv: bytes) -> pl.DataFrame:
    return parse_file(ORDER_DETAILS, csv, SOURCE).frame


def test_values_in_every_documented_format_parse_exactly():
    csv = (
        b"Order Id,Order #,Opened,# of Guests,Amount,Tax,Voided,Duration (Opened to Paid)\n"
        b'400000012345678901,1,4/4/24 11:23 AM,2,"$1,234.50",1.23456,true,0:45:10\n'
        b'400000012345678902,2,04/04/2024 13:23:05,,12,,FALSE,"1 day, 2:00:00"\n'
        b"400000012345678903,3,2024-04-05T01:15:00,1,-3.5,0.29,True,10:00:00\n"
        b"400000012345678904,4,4/5/24 1:15:30 AM,3,(2.00),,false,0:00:59\n"
    )
    expected = pl.DataFrame(
        {
            "order_id": [
                "400000012345678901",
                "400000012345678902",
                "400000012345678903",
                "400000012345678904",
            ],
            "order_number": [1, 2, 3, 4],
            "opened": [
                datetime(2024, 4, 4, 11, 23),
                datetime(2024, 4, 4, 13, 23, 5),
                datetime(2024, 4, 5, 1, 15),
                datetime(2024, 4, 5, 1, 15, 30),
            ],
            "number_of_guests": [2, None, 1, 3],
            "amount": [Decimal("1234.50"), Decimal("12.00"), Decimal("-3.50"), Decimal("-2.00")],
            "tax": [Decimal("1.23456"), None, Decimal("0.29"), None],
            "voided": [True, False, True, False],
            "duration_opened_to_paid": [2710, 93600, 36000, 59],
        },
        schema_overrides={
            "opened": pl.Datetime("us"),
            "amount": pl.Decimal(18, 2),
            "tax": pl.Decimal(18, 5),
        },
    )
    assert_frame_equal(order_frame(csv).select(expected.columns), expected)


def test_columns_are_found_by_header_whatever_their_order_and_case():
    csv = b"amount,ORDER ID, Voided \n5.00,7,false\n"
    frame = order_frame(csv).select("order_id", "amount", "voided")
    assert_frame_equal(
        frame,
        pl.DataFrame(
            {"order_id": ["7"], "amount": [Decimal("5.00")], "voided": [False]},
            schema_overrides={"amount": pl.Decimal(18, 2)},
        ),
    )


def test_frame_has_every_spec_column_in_spec_order():
    for spec in TABLE_SPECS:
        header = ",".join(f'"{c.header}"' for c in reversed(spec.columns)).encode()
        frame = parse_file(spec, header + b"\n", spec.file_name).frame
        assert frame.columns == [*spec.column_names, *(f.name for f in spec.derived)]
        assert frame.height == 0


def test_missing_optional_columns_are_null_and_reported():
    parsed = parse_file(ORDER_DETAILS, b"Order Id,Amount\n1,2.00\n", SOURCE)
    assert parsed.frame.get_column("tip").to_list() == [None]
    assert "Tip" in parsed.missing_columns
    assert "optional column 'Tip' absent: loaded as null" in parsed.drift_notes


def test_extra_columns_are_schema_drift_not_errors():
    parsed = parse_file(ORDER_DETAILS, b"Order Id,Loyalty Points\n1,20\n", SOURCE)
    assert parsed.extra_columns == ("Loyalty Points",)
    assert "Loyalty Points" not in parsed.frame.columns
    assert "unknown column 'Loyalty Points' ignored (schema drift)" in parsed.drift_notes


def test_documented_alias_discnt_is_read_as_discount():
    csv = b"Item Selection Id,Discnt,Net Price\n11,1.25,8.75\n"
    parsed = parse_file(ITEM_SELECTION_DETAILS, csv, "ItemSelectionDetails.csv")
    assert parsed.frame.get_column("discount").to_list() == [Decimal("1.25")]
    assert parsed.aliased_columns == {"Discount": "Discnt"}


def test_bom_is_tolerated():
    assert order_frame(b"\xef\xbb\xbfOrder Id,Amount\n1,2.00\n").get_column(
        "order_id"
    ).to_list() == ["1"]


def test_names_with_commas_and_quotes_survive():
    csv = b'Order Id,Server,Tab Names\n1,"Smith, John","House ""Special"""\n'
    frame = order_frame(csv)
    assert frame.get_column("server").to_list() == ["Smith, John"]
    assert frame.get_column("tab_names").to_list() == ['House "Special"']


def test_lenient_where_the_meaning_is_certain():
    csv = b'Order Id,# of Guests,Voided\n1,2.0,Yes\n2,"1,200",0\n3,3,T\n'
    frame = order_frame(csv).select("number_of_guests", "voided")
    assert frame.rows() == [(2, True), (1200, False), (3, True)]


def test_money_in_forms_toast_does_not_write_is_still_read_exactly():
    """Toast's own plain digits take the fast first pass; the rest is cleaned up in the second."""
    csv = b'Order Id,Amount,Tax\n1,12.5,0.58\n2,"$1,234.50",(5.00)\n3,7.2000, -0.10 \n'
    frame = order_frame(csv).select("amount", "tax")
    assert frame.rows() == [
        (Decimal("12.50"), Decimal("0.58")),
        (Decimal("1234.50"), Decimal("-5.00")),
        (Decimal("7.20"), Decimal("-0.10")),
    ]


def test_a_fractional_count_is_refused():
    with pytest.raises(
        ExportParseError, match="column '# of Guests' \\(#2\\): expected a whole number; got '2.5'"
    ):
        order_frame(b"Order Id,# of Guests\n1,2.5\n")


def test_crlf_line_endings_and_lowercase_meridiem():
    frame = order_frame(b"Order Id,Opened\r\n1,4/4/24 1:05 pm\r\n")
    assert frame.get_column("opened").to_list() == [datetime(2024, 4, 4, 13, 5)]


def test_empty_strings_are_null():
    frame = order_frame(b'Order Id,Server,Tip\n1,"",\n')
    assert frame.get_column("server").to_list() == [None]
    assert frame.get_column("tip").to_list() == [None]


def test_header_only_and_empty_files_have_no_rows():
    assert order_frame(b"Order Id,Amount\n").height == 0
    assert order_frame(b"").height == 0


def test_fulfillment_time_text_with_weeks_and_days_becomes_seconds():
    csv = (
        b"ID,Fulfillment Time\n"
        b"1,12 minutes and 5 seconds\n"
        b'2,"2 weeks, 1 day, 22 hours, 1 minute and 6 seconds"\n'
        b"3,45 seconds\n"
        b"4,1 hour\n"
    )
    frame = parse_file(KITCHEN_TIMINGS, csv, "KitchenTimings.csv").frame
    assert frame.get_column("fulfillment_time").to_list() == [725, 1_375_266, 45, 3600]


def test_check_opened_date_and_time_are_separate_columns():
    csv = b"Check Id,Opened Date,Opened Time\n5,4/4/24,11:23 AM\n6,12/31/2024,11:05 PM\n"
    frame = parse_file(CHECK_DETAILS, csv, "CheckDetails.csv").frame
    assert frame.get_column("opened_date").to_list() == [date(2024, 4, 4), date(2024, 12, 31)]
    assert frame.get_column("opened_time").to_list() == [time(11, 23), time(23, 5)]


def test_long_ids_stay_exact_text():
    csv = b"Master ID,Item ID,Menu Name,Menu Item\n9007199254740993,18014398509481985,Food,Soup\n"
    frame = parse_file(ALL_ITEMS_REPORT, csv, "a.csv").frame
    assert frame.get_column("master_id").to_list() == ["9007199254740993"]
    assert frame.schema["master_id"] == pl.String


# Regression tests for values real exports write (May 2025) that the first parser refused.
AIR_HEADER = b"Master ID,Item ID,Parent ID,Menu Name,Menu Group,Menu Item,Avg Price,Item Qty,Net Amount,% Qty (All),% Net Amt (All)\r\n"


def test_item_selection_tax_with_eight_decimals_is_exact():
    csv = b"Item Selection Id,Tax\r\n1,2.70000000\r\n2,0.58875000\r\n3,0E-8\r\n"
    frame = parse_file(ITEM_SELECTION_DETAILS, csv, "ItemSelectionDetails.csv").frame
    assert frame.schema["tax"] == pl.Decimal(18, 8)
    assert frame.get_column("tax").to_list() == [Decimal("2.7"), Decimal("0.58875"), Decimal("0")]


def test_zero_tax_written_0E_minus_8_is_an_exact_zero():
    csv = b"Item Selection Id,Tax,Net Price\r\n1,0E-8,1.5E+1\r\n"
    frame = parse_file(ITEM_SELECTION_DETAILS, csv, "ItemSelectionDetails.csv").frame
    assert frame.row(0, named=True)["tax"] == Decimal("0E-8")
    assert frame.row(0, named=True)["net_price"] == Decimal("15.00")


def test_zeros_past_a_money_scale_are_dropped_but_other_digits_refused():
    assert order_frame(b"Order Id,Amount\n1,2.5000\n").get_column("amount").to_list() == [
        Decimal("2.50")
    ]
    with pytest.raises(ExportParseError, match="at most 2 decimal places; got '2.5001'"):
        order_frame(b"Order Id,Amount\n1,2.5001\n")


def test_avg_price_is_a_full_double_average_not_money():
    csv = (
        AIR_HEADER
        + b"1,2,,Food,Soups,Soup,7.688253461128861,3.0,23.06,0.0308839190628328,7.267441860465116E-4\r\n"
    )
    row = parse_file(ALL_ITEMS_REPORT, csv, "AllItemsReport.csv").frame.row(0, named=True)
    assert row["avg_price"] == 7.688253461128861
    assert row["share_qty_all"] == 0.0308839190628328
    assert row["share_net_amt_all"] == 7.267441860465116e-4
    assert row["net_amount"] == Decimal("23.06")


def test_share_columns_are_fractions_and_a_percent_sign_is_refused():
    csv = AIR_HEADER + b"1,2,,Food,Soups,Soup,1.0,1.0,1.00,12.5%,0\r\n"
    with pytest.raises(
        ExportParseError,
        match=r"line 2, column '% Qty \(All\)' \(#10\): expected a number \(a fraction",
    ):
        parse_file(ALL_ITEMS_REPORT, csv, "AllItemsReport.csv")


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("00:00:41", 41),
        ("26:00:05", 93605),
        ("-23:-39:-50", -85190),
        ("-69:-03:00", -248580),
        ("00:-00:-41", -41),
    ],
)
def test_negative_durations_paid_before_opened_keep_their_sign(text, seconds):
    frame = order_frame(f"Order Id,Duration (Opened to Paid)\r\n1,{text}\r\n".encode())
    assert frame.get_column("duration_opened_to_paid").to_list() == [seconds]


def test_all_items_report_without_a_column_its_levels_need_is_refused():
    with pytest.raises(
        ExportParseError, match="AllItemsReport.csv, line 1: required column 'Menu Name' is missing"
    ):
        parse_file(ALL_ITEMS_REPORT, b"Master ID,Menu Item\n1,x\n", "AllItemsReport.csv")


def test_all_items_report_rows_are_labelled_with_their_level():
    csv = AIR_HEADER + (
        b",,,ALL MENUS,,,15.2,4.0,40.00,0,0\r\n"
        b",,,LUNCH,,,15.2,4.0,40.00,0,1.0\r\n"
        b"-1,-1,,Gift Cards,Gift Cards,,0.0,0.0,0.00,0,0\r\n"
        b"10,11,,LUNCH,Soups,,10.0,4.0,40.00,1.0,1.0\r\n"
        b"20,21,10,LUNCH,Soups,Soup,10.0,4.0,40.00,1.0,1.0\r\n"
        b"22,23,10,LUNCH,Soups,Stew,0.0,0.0,0.00,0,0\r\n"
        b",,,,,,0.00,0.0,0.00,0,0\r\n"
        b",,,,,,,,,,\r\n"
    )
    frame = parse_file(ALL_ITEMS_REPORT, csv, "AllItemsReport.csv").frame
    expected = pl.DataFrame(
        {
            "row_level": ["total", "menu", "group", "group", "item", "item", "empty", "empty"],
            "report_row": [1, 2, 3, 4, 5, 6, 7, 8],
        }
    )
    assert_frame_equal(frame.select("row_level", "report_row"), expected)


@pytest.mark.parametrize(
    ("csv", "message"),
    [
        (
            b"Order Id,Amount\n1,2.00\n2,12.3x\n",
            "OrderDetails.csv, line 3, column 'Amount' (#2): expected a number with at most 2 decimal places; got '12.3x'",
        ),
        (
            b"Order Id,Amount\n1,2.001\n",
            "line 2, column 'Amount' (#2): expected a number with at most 2 decimal places; got '2.001'",
        ),
        (
            b"Order Id,Opened\n1,yesterday\n",
            "line 2, column 'Opened' (#2): expected a date and time",
        ),
        (
            b"Order Id,Voided\n1,maybe\n",
            "line 2, column 'Voided' (#2): expected true or false (or yes/no, 1/0); got 'maybe'",
        ),
        (b"Order Id\n4.00000012E+17\n", "line 2, column 'Order Id' (#1): expected an ID"),
        (b"Amount\n1\n", "line 1: key column 'Order Id' is missing"),
        (b'Order Id,Server\n1,x\n2,"Smith\n3,y\n', "line 3: unterminated quoted field"),
        (b"Order Id,Server\n1,x\n2,a\x00b\n", "line 3: NUL byte at character 4"),
        (b"Order Id,Server\n1,caf\xe9\n", "line 2: not valid UTF-8 at character 6"),
        (b"Order Id,Server\n1,x\n2,y,z\n", "line 3: row has 3 fields, the header has 2"),
        (
            b"Order Id,Server,Amount\n1,x,2.00\n2,y\n",
            "line 3, column 'Amount' (#3): row has 2 fields, the header has 3 (cut short?)",
        ),
        ("Order Id,Server\n1,x\n".encode("utf-16"), "line 1: the file is UTF-16"),
    ],
)
def test_bad_input_is_an_error_naming_file_line_and_column(csv, message):
    with pytest.raises(ExportParseError) as error:
        order_frame(csv)
    assert SOURCE in str(error.value)
    assert message in str(error.value)


def test_error_line_counts_quoted_line_breaks():
    csv = b'Order Id,Tab Names,Amount\n1,"two\nlines",1.00\n2,x,oops\n'
    with pytest.raises(ExportParseError) as error:
        order_frame(csv)
    assert error.value.line == 4
    assert error.value.column == "Amount"


def test_regression_a_file_cut_off_mid_row_is_not_padded_with_nulls():
    """polars fills the missing fields of a short last row with nulls; a half-written file
    would then load as complete with an order missing its amount."""
    with pytest.raises(ExportParseError) as error:
        order_frame(b"Order Id,Server,Amount\n1,x,2.00\n2,Kelly")
    assert (error.value.line, error.value.column) == (3, "Amount")


def test_blank_lines_are_not_rows_and_do_not_shift_error_lines():
    frame = order_frame(b"Order Id,Amount\n1,2.00\n\n2,3.00\n\n")
    assert frame.get_column("order_id").to_list() == ["1", "2"]
    with pytest.raises(ExportParseError) as error:
        order_frame(b"Order Id,Amount\n1,2.00\n\n2,oops\n")
    assert error.value.line == 4


def test_regression_money_with_extra_decimals_is_not_rounded():
    """polars' decimal cast rounds 1.234 to 1.23 silently; the parser must refuse it instead."""
    with pytest.raises(ExportParseError, match="at most 2 decimal places"):
        order_frame(b"Order Id,Amount\n1,1.234\n")
