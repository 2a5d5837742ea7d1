"""Start the basic scenarios: POST, record the action, redirect at once (don't block the HTTP)."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from async_actions import start_action
from async_actions.django_tasks import enqueue_as
from example.basics.jobs import count_words
from example.basics.tasks import divide, greet


@require_POST
@login_required
def start_greeting(request: HttpRequest) -> HttpResponse:
    name = request.user.get_username()
    report = start_action("Say hello", greet.s(name), triggered_by=request.user)
    return redirect(f"/demo/?report={report.pk}")


@require_POST
@login_required
def start_division_by_zero(request: HttpRequest) -> HttpResponse:
    report = start_action("Divide by zero", divide.s(1, 0), triggered_by=request.user)
    return redirect(f"/demo/?report={report.pk}")


@require_POST
@login_required
def start_word_count(request: HttpRequest) -> HttpResponse:
    """The same, through django.tasks: .enqueue() instead of start_action(..., task.s())."""
    with enqueue_as(action="Count words", triggered_by=request.user):
        result = count_words.enqueue("Trustworthy background work for Django")
    return redirect(f"/demo/?report={result.id}")  # the result id is the report id
