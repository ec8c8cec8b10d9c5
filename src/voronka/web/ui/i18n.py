"""Russian and English for the web interface: messages and locale-aware numbers and dates.

Messages are keyed by their English text (as gettext does); ``RU`` holds the Russian. A test
checks that every message used by a template has a Russian translation.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from babel import dates as babel_dates
from babel import numbers as babel_numbers

LANGUAGES = ("ru", "en")
DEFAULT_LANGUAGE = "ru"

RU: dict[str, str] = {
    # navigation and frame
    "Overview": "Обзор",
    "Funnel": "Воронка",
    "Channels": "Каналы",
    "Channels & attribution": "Каналы и атрибуция",
    "Managers": "Менеджеры",
    "Calls": "Звонки",
    "Clients": "Клиенты",
    "Client analytics": "Аналитика клиентов",
    "Cohorts & LTV": "Когорты и LTV",
    "Products": "Товары",
    "Forecast": "Прогноз",
    "Experiments": "Эксперименты",
    "Pipeline": "Воронка продаж",
    "Tasks": "Задачи",
    "Orders": "Заказы",
    "Settings": "Настройки",
    "Analytics": "Аналитика",
    "Work": "Работа",
    "Sign in": "Войти",
    "Sign out": "Выйти",
    "E-mail": "Эл. почта",
    "Password": "Пароль",
    "Language": "Язык",
    "Main navigation": "Основная навигация",
    "Skip to content": "Перейти к содержимому",
    "Wrong e-mail or password": "Неверная почта или пароль",
    "Voronka — analytical CRM": "Воронка — аналитическая CRM",
    # filters
    "From": "С",
    "To": "По",
    "Breakdown": "Разбивка",
    "None": "Нет",
    "Apply": "Применить",
    "Channel": "Канал",
    "Campaign": "Кампания",
    "Manager": "Менеджер",
    "Product group": "Группа товаров",
    "Search": "Поиск",
    "Owner": "Ответственный",
    "Anyone": "Любой",
    "Kind": "Тип",
    "Any": "Любой",
    "Tag": "Тег",
    "Save view": "Сохранить вид",
    "View name": "Название вида",
    "Saved views": "Сохранённые виды",
    "Delete": "Удалить",
    "Period": "Период",
    # dashboard
    "Key metrics": "Ключевые показатели",
    "vs previous period": "к прошлому периоду",
    "vs last year": "к прошлому году",
    "Revenue dynamics": "Динамика выручки",
    "Channel ROMI": "ROMI по каналам",
    "Alerts": "Оповещения",
    "No alerts": "Оповещений нет",
    "Formula": "Формула",
    "Show the records": "Показать записи",
    "Records behind the figure": "Записи за показателем",
    "Value": "Значение",
    "Previous": "Прошлый период",
    "Year ago": "Год назад",
    "Growth, %": "Рост, %",
    "Year over year, %": "К прошлому году, %",
    "Metric": "Показатель",
    "Total": "Итого",
    "Export": "Выгрузить",
    "Step": "Шаг",
    "Stage": "Этап",
    "Entered": "Вошли",
    "Conversion from previous, %": "Конверсия из предыдущего, %",
    "Conversion overall, %": "Конверсия от начала, %",
    "Dropped": "Отпали",
    "Median hours in stage": "Медиана часов на этапе",
    "Hours in stage": "Часов на этапе",
    "Leads": "Лиды",
    "Won": "Выиграно",
    "Lost": "Проиграно",
    "Revenue": "Выручка",
    "Spend": "Расход",
    "New buyers": "Новые покупатели",
    "Team": "Команда",
    "Win rate, %": "Доля выигранных, %",
    "Paid orders": "Оплаченные заказы",
    "Average check": "Средний чек",
    "Response median, min": "Медиана ответа, мин",
    "Missed calls": "Пропущенные",
    "Overdue tasks": "Просроченные задачи",
    "Hour": "Час",
    "Weekday": "День недели",
    "Inbound calls": "Входящие звонки",
    "Missed, %": "Пропущено, %",
    "Not called back": "Не перезвонили",
    "Staffing advice": "Рекомендации по сменам",
    "Agents needed": "Нужно операторов",
    "Scheduled": "В смене",
    "Service level": "Уровень сервиса",
    "Calls per hour": "Звонков в час",
    "Calls by hour and weekday": "Звонки по часам и дням недели",
    "Financial rating": "Финансовый рейтинг",
    "RFM map": "Карта RFM",
    "Segment": "Сегмент",
    "Segments": "Сегменты",
    "Share of revenue, %": "Доля выручки, %",
    "Group": "Группа",
    "Class or segment": "Класс или сегмент",
    "Clients by group, ABC class and RFM segment": "Клиенты по группам, классам ABC и сегментам RFM",
    "ABC class": "Класс ABC",
    "Rank": "Место",
    "Client": "Клиент",
    "Retention, %": "Удержание, %",
    "Cohort": "Когорта",
    "Cohort size": "Размер когорты",
    "Month": "Месяц",
    "Payback month": "Месяц окупаемости",
    "Payback": "Окупаемость",
    "Retention triangle": "Треугольник удержания",
    "Not available yet": "Пока недоступно",
    "This analysis is not installed in this version.": "Этот анализ ещё не установлен в этой версии.",
    "Not enough data for this analysis yet.": "Для этого анализа пока недостаточно данных.",
    # CRM
    "Name": "Имя",
    "Phone": "Телефон",
    "Contacts": "Контакты",
    "Consent": "Согласия",
    "Granted": "Дано",
    "Withdrawn": "Отозвано",
    "Deals": "Сделки",
    "Timeline": "История",
    "Quick actions": "Быстрые действия",
    "Log a call": "Записать звонок",
    "Add a note": "Добавить заметку",
    "Add a task": "Добавить задачу",
    "New deal": "Новая сделка",
    "Subject": "Тема",
    "Text": "Текст",
    "Due": "Срок",
    "Title": "Название",
    "Amount": "Сумма",
    "Save": "Сохранить",
    "Saved": "Сохранено",
    "Created": "Создан",
    "Status": "Статус",
    "Open": "Открыта",
    "Done": "Выполнено",
    "Mark done": "Выполнить",
    "Overdue": "Просрочено",
    "Move to": "Переместить в",
    "Move": "Переместить",
    "Lost reason": "Причина проигрыша",
    "deals": "сделок",
    "Drag a card to another stage, or use the Move form on the card.":
        "Перетащите карточку на другой этап или используйте форму «Переместить» на карточке.",
    "Previous page": "Предыдущая страница",
    "Next page": "Следующая страница",
    "Page": "Страница",
    "of": "из",
    "No rows": "Нет строк",
    "Number": "Номер",
    "Paid": "Оплачен",
    "SKU": "Артикул",
    "Price": "Цена",
    "Active": "Активен",
    "Yes": "Да",
    "No": "Нет",
    "Pipelines and stages": "Воронки и этапы",
    "Channels and campaigns": "Каналы и кампании",
    "Tracking numbers": "Номера отслеживания",
    "Users and roles": "Пользователи и роли",
    "Integrations": "Интеграции",
    "Imports": "Импорт",
    "Role": "Роль",
    "Probability, %": "Вероятность, %",
    "Number of deals": "Число сделок",
    "Not found": "Не найдено",
    "Access denied": "Доступ запрещён",
    "Something went wrong": "Что-то пошло не так",
    "Back to the overview": "Вернуться к обзору",
    "Refused": "Отказано",
    "My open tasks": "Мои открытые задачи",
    "Reminders due": "Напоминания",
    "Call": "Звонок",
    "Note": "Заметка",
    "Task": "Задача",
    "Direction": "Направление",
    "Inbound": "Входящий",
    "Outbound": "Исходящий",
    "Duration, s": "Длительность, с",
    "Result": "Результат",
    "Answered": "Отвечен",
    "Missed": "Пропущен",
    "Person": "Человек",
    "Company": "Компания",
    "Webhook address": "Адрес вебхука",
    "Last events": "Последние события",
    "Progress": "Ход выполнения",
    "Started": "Начат",
    "Finished": "Завершён",
    "rows": "строк",
    "Warehouse": "Склад",
    "Stock": "Остаток",
    "Channel ROMI, %": "ROMI канала, %",
    "CPL": "CPL",
    "CAC": "CAC",
    "ROMI, %": "ROMI, %",
    "Chart": "График",
    "Table": "Таблица",
    "Level": "Уровень",
    "Records": "Записи",
    "Orders of the period": "Заказы периода",
    "Signed in as": "Вы вошли как",
    "Recency": "Давность",
    "Frequency": "Частота",
    "Monetary": "Деньги",
    "Clients in segment": "Клиентов в сегменте",
    "Deal moved": "Сделка перемещена",
    "Client card": "Карточка клиента",
    "Product": "Товар",
    "Units": "Штук",
    "Filters": "Фильтры",
    "Actions": "Действия",
    "Description": "Описание",
    "Date": "Дата",
    "Load more": "Показать ещё",
    "Reports": "Отчёты",
    "Administration": "Администрирование",
    "Admin": "Администратор",
    "Touchpoint": "Касание",
    "Stage change": "Смена этапа",
    "Deal": "Сделка",
    "Order": "Заказ",
    "Order status": "Статус заказа",
    "Ticket": "Обращение",
    "Feedback": "Отзыв",
    "Email": "Письмо",
    "Meeting": "Встреча",
    "Message": "Сообщение",
    "Busy": "Занято",
    "Failed": "Не состоялся",
    "New": "Новый",
    "Confirmed": "Подтверждён",
    "Shipped": "Отгружен",
    "Delivered": "Доставлен",
    "Cancelled": "Отменён",
    "Returned": "Возвращён",
    "Basket rules": "Правила корзины",
    "Stock advice": "Рекомендации по запасам",
    "Attribution": "Атрибуция",
    "Add a stage": "Добавить этап",
    "expected": "ожидалось",
    "ABC-XYZ and stock advice": "ABC-XYZ и рекомендации по запасам",
    "Behaviour segments": "Поведенческие сегменты",
    "Share of clients, %": "Доля клиентов, %",
    "Lower bound": "Нижняя граница",
    "Upper bound": "Верхняя граница",
    "Model": "Модель",
    "Past error": "Ошибка на истории",
    "Folds": "Проверок",
    "Chosen": "Выбрана",
    "Weighted pipeline": "Взвешенная воронка",
    "Probability": "Вероятность",
    "Weighted amount": "Взвешенная сумма",
    "Variants": "Варианты",
    "Lift": "Прирост",
    "p (Holm)": "p (Холм)",
    "Probability to beat control": "Вероятность обогнать контроль",
    "Always-valid p": "Всегда верное p",
    "Decision": "Решение",
    "Sample size": "Нужный объём выборки",
    "Reached": "Набрано",
    "Campaigns to compare (the first is the control)": "Сравниваемые кампании (первая — контрольная)",
    "Attributed revenue": "Выручка по моделям атрибуции",
    "First touch": "Первое касание",
    "Last touch": "Последнее касание",
    "Last non direct": "Последнее непрямое",
    "Linear": "Линейная",
    "Position based": "С учётом позиции",
    "Time decay": "С угасанием",
    "Markov": "Марковская",
    "Shapley": "Шепли",
    "ABC-XYZ": "ABC-XYZ",
    "LTV": "LTV",
    "Head of sales": "Руководитель продаж",
    "Sales manager": "Менеджер по продажам",
    "Marketer": "Маркетолог",
    "Analyst": "Аналитик",
    # settings forms
    "Change the stage": "Изменить этап",
    "Rename the channel": "Переименовать канал",
    "Change the campaign": "Изменить кампанию",
    "Add a channel": "Добавить канал",
    "Paid channel": "Платный канал",
    "Add a campaign": "Добавить кампанию",
    "Code (latin letters, digits, - and _)": "Код (латинские буквы, цифры, - и _)",
    "Switch the number off": "Отключить номер",
    "Switch the number on": "Включить номер",
    "Switch off": "Отключить",
    "Switch on": "Включить",
    "Add a number": "Добавить номер",
    "Change the role": "Изменить роль",
    "Add a user": "Добавить пользователя",
    "Password (at least 10 characters)": "Пароль (не короче 10 символов)",
}


def translate(language: str, message: str) -> str:
    """``message`` in ``language`` (English text is the key)."""
    if language == "ru":
        return RU.get(message, message)
    return message


def choose(requested: str | None, accept_language: str | None) -> str:
    """The interface language: an explicit choice, else the browser's, else Russian."""
    if requested in LANGUAGES:
        return requested  # type: ignore[return-value]
    for part in (accept_language or "").split(","):
        code = part.split(";")[0].strip().lower()[:2]
        if code in LANGUAGES:
            return code
    return DEFAULT_LANGUAGE


class Formatter:
    """Numbers, money, percentages and dates in one language's conventions."""

    def __init__(self, language: str, currency: str) -> None:
        self.locale = "ru_RU" if language == "ru" else "en_US"
        self.currency = currency

    def number(self, value: Any, digits: int = 0) -> str:
        if value is None or isinstance(value, bool):
            return "—" if value is None else str(value)
        try:
            exact = Decimal(str(value))
        except InvalidOperation:
            return str(value)
        if not exact.is_finite():
            return "—"
        return babel_numbers.format_decimal(
            round(exact, digits),
            format=f"#,##0{'.' + '0' * digits if digits else ''}",
            locale=self.locale,
        )

    def money(self, value: Any, currency: str | None = None) -> str:
        """Whole units from 1,000 up, kopecks below; the symbol before (en) or after (ru)."""
        if value is None:
            return "—"
        amount = Decimal(str(value))
        digits = 0 if abs(amount) >= 1000 else 2
        number = self.number(amount, digits)
        symbol = babel_numbers.get_currency_symbol(currency or self.currency, "ru_RU")
        if self.locale == "en_US":
            return ("-" if amount < 0 else "") + symbol + number.lstrip("-")
        return f"{number}\xa0{symbol}"

    def percent(self, value: Any, digits: int = 1) -> str:
        if value is None:
            return "—"
        return self.number(value, digits) + " %"

    def signed_percent(self, value: Any) -> str:
        if value is None:
            return "—"
        sign = "+" if value > 0 else ("−" if value < 0 else "")
        return sign + self.percent(abs(value))

    def date(self, value: date | datetime | None, zone: Any = None) -> str:
        if value is None:
            return "—"
        if isinstance(value, datetime):
            local = value.astimezone(zone) if zone else value
            return babel_dates.format_datetime(local, "short", locale=self.locale)
        return babel_dates.format_date(value, "medium", locale=self.locale)

    def month(self, value: date | None) -> str:
        if value is None:
            return "—"
        return babel_dates.format_date(value, "LLL yyyy", locale=self.locale)

    def by_unit(self, value: Any, unit: str) -> str:
        if unit == "money":
            return self.money(value)
        if unit == "percent":
            return self.percent(value)
        if unit == "seconds":
            return self.number(value) + (" с" if self.locale == "ru_RU" else " s")
        if unit == "days":
            return self.number(value, 1) + (" дн." if self.locale == "ru_RU" else " d")
        if unit == "score":
            return self.number(value, 1)
        return self.number(value)
