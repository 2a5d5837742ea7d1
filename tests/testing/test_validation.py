"""validate_tasks' sample arguments; the other checks run in a sample project (test_plugin.py)."""

from celery import Celery

from async_actions.testing import task_problems

# Celery adds every shared task to every app too: only this app's own task is looked at here.
samples_app = Celery("samples", set_as_current=False)


@samples_app.task(name="shop.tag")
def tag(labels: set) -> None:  # a set is not JSON
    pass


def problems_of_tag(**kwargs):
    return [p for p in task_problems(samples_app, lint_paths=[], **kwargs) if p.task == "shop.tag"]


def test_arguments_built_from_annotations_must_meet_the_serializer():
    [problem] = problems_of_tag()

    assert problem.problem.startswith(
        "its arguments () {'labels': {1}} cannot be encoded with the 'json' serializer"
    )
    assert problem.fix == "pass ids and plain values, not objects; load the object inside the task."


def test_samples_given_replace_the_annotations():
    assert problems_of_tag(samples={"shop.tag": ((), {"labels": [1]})}) == []
