import pytest

from davinci.prepared import PreparedQuery
from facilities.models import Facility, Unit
from tests.factories import FacilityFactory, UnitFactory


def _units(facility_id, unit_number):
    return (
        Unit.objects.filter(facility__facility_id=facility_id, unit_number=unit_number)
        .order_by()
        .values_list("pk", "unit_number", "created_at")
    )


def test_the_same_sql_answers_for_other_values(account):
    query = PreparedQuery(_units, text=("facility_id", "unit_number"))
    first, second = FacilityFactory(account=account), FacilityFactory(account=account)
    a = UnitFactory(facility=first, unit_number="007")
    b = UnitFactory(facility=second, unit_number="B12")
    assert query.rows(facility_id=first.facility_id, unit_number="007") == [
        (a.pk, "007", a.created_at)  # Django's converters ran: an aware datetime
    ]
    assert query.first(facility_id=second.facility_id, unit_number="B12")[0] == b.pk
    assert query.first(facility_id=first.facility_id, unit_number="B12") is None


def test_shapes_compile_separately(account):
    def by_inclusion(included, name):
        queryset = Facility.objects.filter(name=name)
        if included:
            queryset = queryset.filter(include_in_api=True)
        return queryset.order_by().values_list("name", flat=True)

    query = PreparedQuery(by_inclusion, text=("name",))
    FacilityFactory(account=account, name="Out", include_in_api=False)
    assert query.rows(shape=True, shape_kwargs={"included": True}, name="Out") == []
    assert query.rows(shape=False, shape_kwargs={"included": False}, name="Out") == [("Out",)]


def test_a_value_used_twice_refuses_to_compile(db):
    query = PreparedQuery(
        lambda name: Facility.objects.filter(name=name, address=name).values_list("pk"),
        text=("name",),
    )
    with pytest.raises(ValueError, match="at most one SQL parameter"):
        query.rows(name="x")


def test_a_value_written_into_the_sql_refuses_to_compile(db):
    # A value formatted into the SQL text would be cached with it: refused at compile time.
    query = PreparedQuery(
        lambda name: Facility.objects.extra(where=[f"name <> '{name}'"]).values_list("pk"),  # noqa: S610
        text=("name",),
    )
    with pytest.raises(ValueError, match="at most one SQL parameter"):
        query.rows(name="x")


def test_a_value_rewritten_by_its_lookup_refuses_to_compile(db):
    query = PreparedQuery(
        lambda name: Facility.objects.filter(name__icontains=name).values_list("pk"),
        text=("name",),
    )
    with pytest.raises(ValueError, match="rewritten by its lookup"):
        query.rows(name="x")
