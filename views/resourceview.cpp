// SPDX-License-Identifier: GPL-3.0-or-later
#include "resourceview.h"

#include "deletedialog.h"
#include "jsontext.h"
#include "messagebar.h"
#include "resourcetablemodel.h"
#include "restclient.h"
#include "roles.h"
#include "statusdelegate.h"
#include "workspace.h"

#include <QAction>
#include <QEvent>
#include <QFormLayout>
#include <QHeaderView>
#include <QItemSelectionModel>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QPointer>
#include <QScrollArea>
#include <QSplitter>
#include <QTableView>
#include <QToolBar>
#include <QVBoxLayout>

#include <memory>

namespace dispatch::views {

bool ResourceFilterProxy::filterAcceptsRow(int sourceRow, const QModelIndex &sourceParent) const
{
    const QString &needle = m_needle;
    if (needle.isEmpty())
        return true;
    const auto *m = sourceModel();
    for (int c = 0; c < m->columnCount(sourceParent); ++c) {
        if (m->index(sourceRow, c, sourceParent).data(Qt::DisplayRole).toString().contains(needle, Qt::CaseInsensitive))
            return true;
    }
    return false;
}

void ResourceFilterProxy::setNeedle(const QString &text)
{
    m_needle = text.trimmed();
    invalidateFilter();
}

bool ResourceFilterProxy::lessThan(const QModelIndex &left, const QModelIndex &right) const
{
    const QVariant l = left.data(sortRole());
    const QVariant r = right.data(sortRole());
    if (l.typeId() == QMetaType::QStringList || r.typeId() == QMetaType::QStringList)
        return l.toStringList().join(QLatin1Char(',')).localeAwareCompare(r.toStringList().join(QLatin1Char(','))) < 0;
    if (l.typeId() == QMetaType::QString && r.typeId() == QMetaType::QString)
        return l.toString().localeAwareCompare(r.toString()) < 0;
    const auto order = QVariant::compare(l, r);
    if (order == QPartialOrdering::Unordered)
        return left.data(Qt::DisplayRole).toString() < right.data(Qt::DisplayRole).toString();
    return order == QPartialOrdering::Less;
}

ResourceView::ResourceView(Workspace *workspace, models::ResourceTableModel *model, const QString &singular,
                           const QString &plural, QWidget *parent)
    : QWidget(parent), m_workspace(workspace), m_model(model), m_singular(singular), m_plural(plural)
{
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(4);

    auto *top = new QHBoxLayout;
    m_toolBar = new QToolBar(this);
    m_toolBar->setToolButtonStyle(Qt::ToolButtonTextOnly);
    m_toolBar->setIconSize(QSize(16, 16));
    m_create = m_toolBar->addAction(tr("&New %1\u2026").arg(singular));
    m_create->setObjectName(QStringLiteral("createAction"));
    m_create->setShortcut(QKeySequence::New);
    m_create->setShortcutContext(Qt::WidgetWithChildrenShortcut);
    m_edit = m_toolBar->addAction(tr("&Edit\u2026"));
    m_edit->setObjectName(QStringLiteral("editAction"));
    m_edit->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_E));
    m_edit->setShortcutContext(Qt::WidgetWithChildrenShortcut);
    m_delete = m_toolBar->addAction(tr("&Delete"));
    m_delete->setObjectName(QStringLiteral("deleteAction"));
    m_delete->setShortcut(QKeySequence::Delete);
    m_delete->setShortcutContext(Qt::WidgetWithChildrenShortcut);
    m_refresh = m_toolBar->addAction(tr("&Refresh"));
    m_refresh->setObjectName(QStringLiteral("refreshAction"));
    m_refresh->setShortcut(QKeySequence::Refresh);
    m_refresh->setShortcutContext(Qt::WidgetWithChildrenShortcut);
    addActions({m_create, m_edit, m_delete, m_refresh});
    top->addWidget(m_toolBar, 1);
    m_filter = new QLineEdit(this);
    m_filter->setObjectName(QStringLiteral("filterEdit"));
    m_filter->setPlaceholderText(tr("Filter %1  ( / )").arg(plural));
    m_filter->setAccessibleName(tr("Filter %1").arg(plural));
    m_filter->setClearButtonEnabled(true);
    m_filter->setMinimumWidth(220);
    top->addWidget(m_filter);
    layout->addLayout(top);

    m_messages = new MessageBar(this);
    layout->addWidget(m_messages);

    auto *split = new QSplitter(Qt::Horizontal, this);
    split->setObjectName(QStringLiteral("resourceSplitter"));
    split->setChildrenCollapsible(false);
    m_proxy = new ResourceFilterProxy(this);
    m_proxy->setSourceModel(model);
    m_proxy->setSortRole(models::RawRole);
    m_proxy->setDynamicSortFilter(true);
    m_table = new QTableView(split);
    m_table->setObjectName(QStringLiteral("resourceTable"));
    m_table->setAccessibleName(tr("%1 table").arg(plural));
    m_table->setModel(m_proxy);
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->setSelectionMode(QAbstractItemView::ExtendedSelection);
    m_table->setSortingEnabled(true);
    m_table->sortByColumn(0, Qt::AscendingOrder);
    m_table->setAlternatingRowColors(true);
    m_table->setWordWrap(false);
    m_table->verticalHeader()->hide();
    m_table->verticalHeader()->setDefaultSectionSize(m_table->fontMetrics().height() + 10);
    m_table->horizontalHeader()->setStretchLastSection(true);
    m_table->horizontalHeader()->setHighlightSections(false);
    m_table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    const auto cols = model->columnList();
    for (int c = 0; c < cols.size(); ++c) {
        if (cols[c].type == models::ResourceTableModel::ColumnType::Status) {
            m_table->setItemDelegateForColumn(
                c, new StatusDelegate(m_table, [](const QModelIndex &i) { return i.data(models::ReasonRole).toString(); }));
        }
    }
    m_empty = new QLabel(m_table->viewport());
    m_empty->setObjectName(QStringLiteral("emptyState"));
    m_empty->setAlignment(Qt::AlignCenter);
    m_empty->setWordWrap(true);
    m_empty->setForegroundRole(QPalette::PlaceholderText);
    m_table->viewport()->installEventFilter(this);

    // Detail pane.
    auto *scroll = new QScrollArea(split);
    scroll->setWidgetResizable(true);
    scroll->setFrameShape(QFrame::NoFrame);
    m_detail = new QWidget(scroll);
    m_detail->setObjectName(QStringLiteral("detailPane"));
    auto *d = new QVBoxLayout(m_detail);
    d->setContentsMargins(10, 4, 4, 4);
    auto *titleRow = new QHBoxLayout;
    m_detailTitle = new QLabel(m_detail);
    m_detailTitle->setObjectName(QStringLiteral("detailTitle"));
    m_detailTitle->setTextInteractionFlags(Qt::TextSelectableByMouse);
    QFont tf = m_detailTitle->font();
    tf.setPointSizeF(tf.pointSizeF() * 1.25);
    tf.setBold(true);
    m_detailTitle->setFont(tf);
    titleRow->addWidget(m_detailTitle);
    auto *badge = new StatusBadge(m_detail);
    m_detailStatus = badge;
    titleRow->addWidget(badge);
    titleRow->addStretch(1);
    d->addLayout(titleRow);
    m_noSelection = new QLabel(tr("Select a %1 to see its details.").arg(singular), m_detail);
    m_noSelection->setForegroundRole(QPalette::PlaceholderText);
    m_noSelection->setWordWrap(true);
    d->addWidget(m_noSelection);
    m_noSelection->setAlignment(Qt::AlignTop | Qt::AlignLeft);
    m_detailBody = new QWidget(m_detail);
    auto *body = new QVBoxLayout(m_detailBody);
    body->setContentsMargins(0, 0, 0, 0);
    m_detailForm = new QFormLayout;
    m_detailForm->setLabelAlignment(Qt::AlignRight);
    m_detailForm->setFieldGrowthPolicy(QFormLayout::AllNonFixedFieldsGrow);
    body->addLayout(m_detailForm);
    m_detailExtras = new QVBoxLayout;
    body->addLayout(m_detailExtras);
    auto *jsonLabel = new QLabel(tr("JSON"), m_detailBody);
    QFont jf = jsonLabel->font();
    jf.setBold(true);
    jsonLabel->setFont(jf);
    body->addWidget(jsonLabel);
    m_json = makeCodeView(m_detailBody, QStringLiteral("detailJson"));
    m_json->setMinimumHeight(160);
    m_json->setAccessibleName(tr("%1 as JSON").arg(singular));
    body->addWidget(m_json, 1);
    d->addWidget(m_detailBody, 1);
    scroll->setWidget(m_detail);
    split->addWidget(m_table);
    split->addWidget(scroll);
    split->setStretchFactor(0, 3);
    split->setStretchFactor(1, 2);
    split->setSizes({620, 420});
    layout->addWidget(split, 1);

    connect(m_filter, &QLineEdit::textChanged, this, [this](const QString &text) {
        m_proxy->setNeedle(text);
        updateEmptyState();
    });
    connect(m_table->selectionModel(), &QItemSelectionModel::selectionChanged, this, [this] {
        updateDetail();
        updateActions();
    });
    connect(m_table, &QTableView::doubleClicked, this, [this] {
        if (canEdit())
            editItem();
    });
    connect(m_create, &QAction::triggered, this, &ResourceView::createItem);
    connect(m_edit, &QAction::triggered, this, &ResourceView::editItem);
    connect(m_delete, &QAction::triggered, this, [this] { deleteNames(selectedNames()); });
    connect(m_refresh, &QAction::triggered, m_model, &models::ResourceTableModel::refresh);
    connect(m_model, &QAbstractItemModel::rowsInserted, this, &ResourceView::updateEmptyState);
    connect(m_model, &QAbstractItemModel::rowsRemoved, this, [this] {
        updateEmptyState();
        updateDetail();
    });
    connect(m_model, &QAbstractItemModel::modelReset, this, [this] {
        updateEmptyState();
        updateDetail();
    });
    connect(m_model, &QAbstractItemModel::dataChanged, this, [this](const QModelIndex &tl, const QModelIndex &br) {
        const QString name = currentName();
        const int row = name.isEmpty() ? -1 : m_model->rowOf(name);
        if (row >= tl.row() && row <= br.row())
            updateDetail();
    });
    connect(m_model, &models::ResourceTableModel::loadingChanged, this, &ResourceView::updateEmptyState);
    connect(m_model, &models::ResourceTableModel::refreshed, this, [this] {
        updateEmptyState();
        if (!m_sizedColumns && m_model->rowCount() > 0) {
            m_sizedColumns = true;
            m_table->resizeColumnsToContents();
            for (int c = 0; c < m_model->columnCount(); ++c)
                m_table->setColumnWidth(c, std::clamp(m_table->columnWidth(c) + 12, 60, 300));
        }
    });
    connect(m_model, &models::ResourceTableModel::refreshFailed, this, &ResourceView::updateEmptyState);
    // "Used by" comes from the other tables: when they change, the shown item's detail is recomputed.
    m_detailTimer = new QTimer(this);
    m_detailTimer->setSingleShot(true);
    m_detailTimer->setInterval(150);
    connect(m_detailTimer, &QTimer::timeout, this, [this] {
        if (!currentName().isEmpty())
            updateDetail();
    });
    for (auto *other : workspace->resourceModels()) {
        if (other == model)
            continue;
        auto kick = [this] { m_detailTimer->start(); };
        connect(other, &QAbstractItemModel::rowsInserted, this, kick);
        connect(other, &QAbstractItemModel::rowsRemoved, this, kick);
        connect(other, &QAbstractItemModel::modelReset, this, kick);
    }
    updateEmptyState();
    updateDetail();
    updateActions();
}

bool ResourceView::eventFilter(QObject *watched, QEvent *event)
{
    if (watched == m_table->viewport() && event->type() == QEvent::Resize)
        m_empty->setGeometry(m_table->viewport()->rect().adjusted(20, 20, -20, -20));
    return QWidget::eventFilter(watched, event);
}

QString ResourceView::emptyText() const
{
    return tr("No %1 yet.\nUse \u201cNew %2\u2026\u201d (Ctrl+N) to create one.").arg(m_plural, m_singular);
}

void ResourceView::updateEmptyState()
{
    m_empty->setGeometry(m_table->viewport()->rect().adjusted(20, 20, -20, -20));
    if (m_proxy->rowCount() > 0) {
        m_empty->hide();
        return;
    }
    QString text;
    if (m_model->rowCount() > 0)
        text = tr("No %1 match \u201c%2\u201d.").arg(m_plural, m_filter->text());
    else if (!m_model->lastError().isEmpty() && !m_model->isLoading())
        text = tr("Cannot load %1.\n%2").arg(m_plural, m_model->lastError());
    else if (!m_model->hasLoaded())
        text = tr("Loading %1\u2026").arg(m_plural);
    else if (const QString why = m_permissions.whyNot(models::Permissions::resourceOfPath(m_model->listPath()),
                                                     QStringLiteral("create"));
             !why.isEmpty())
        text = tr("No %1 yet.\n%2").arg(m_plural, why); // never point at a button that is disabled
    else
        text = emptyText();
    m_empty->setText(text);
    m_empty->show();
    m_empty->raise();
}

void ResourceView::setPermissions(const models::Permissions &permissions)
{
    m_permissions = permissions;
    updateActions();
    updateEmptyState();
}

namespace {
// Shows why an action is forbidden in its tooltip, and its own tooltip again once it is allowed.
void explain(QAction *action, const QString &whyNot)
{
    if (!action->property("baseToolTip").isValid())
        action->setProperty("baseToolTip", action->toolTip());
    action->setToolTip(whyNot.isEmpty() ? action->property("baseToolTip").toString() : whyNot);
}
} // namespace

void ResourceView::updateActions()
{
    const int n = static_cast<int>(selectedNames().size());
    const QString resource = models::Permissions::resourceOfPath(m_model->listPath());
    const QString noCreate = m_permissions.whyNot(resource, QStringLiteral("create"));
    const QString noUpdate = m_permissions.whyNot(resource, QStringLiteral("update"));
    const QString noDelete = m_permissions.whyNot(resource, QStringLiteral("delete"));
    m_create->setEnabled(canCreate() && noCreate.isEmpty());
    m_create->setVisible(canCreate());
    explain(m_create, noCreate);
    m_edit->setVisible(canEdit());
    m_edit->setEnabled(canEdit() && n == 1 && noUpdate.isEmpty());
    explain(m_edit, noUpdate);
    m_delete->setEnabled(n > 0 && noDelete.isEmpty());
    m_delete->setText(n > 1 ? tr("&Delete %1").arg(n) : tr("&Delete"));
    explain(m_delete, noDelete);
}

QStringList ResourceView::selectedNames() const
{
    QStringList out;
    const auto rows = m_table->selectionModel()->selectedRows();
    for (const auto &i : rows)
        out << i.data(models::KeyRole).toString();
    out.removeAll(QString());
    return out;
}

QString ResourceView::currentName() const
{
    const auto rows = m_table->selectionModel()->selectedRows();
    if (rows.size() != 1)
        return {};
    return rows.first().data(models::KeyRole).toString();
}

ResourceView::Json ResourceView::currentObject() const
{
    const QString name = currentName();
    return name.isEmpty() ? Json() : m_model->object(name);
}

bool ResourceView::selectName(const QString &name)
{
    const int row = m_model->rowOf(name);
    if (row < 0)
        return false;
    const QModelIndex proxyIndex = m_proxy->mapFromSource(m_model->index(row, 0));
    if (!proxyIndex.isValid())
        return false;
    m_table->selectionModel()->setCurrentIndex(proxyIndex, QItemSelectionModel::ClearAndSelect
                                                               | QItemSelectionModel::Rows);
    m_table->scrollTo(proxyIndex);
    return true;
}

QList<QPair<QString, QString>> ResourceView::keyFields(const Json &object) const
{
    Q_UNUSED(object)
    return {};
}

QStringList ResourceView::dependantsOf(const QString &name) const
{
    Q_UNUSED(name)
    return {};
}

void ResourceView::updateDetail()
{
    const Json object = currentObject();
    const bool has = object.is_object();
    m_noSelection->setVisible(!has);
    m_detailBody->setVisible(has);
    const int selected = static_cast<int>(selectedNames().size());
    if (selected > 1)
        m_noSelection->setText(tr("%n %1 selected.", nullptr, selected).arg(m_plural));
    else
        m_noSelection->setText(tr("Select a %1 to see its details.").arg(m_singular));
    while (m_detailForm->rowCount() > 0)
        m_detailForm->removeRow(0);
    auto *badge = static_cast<StatusBadge *>(m_detailStatus);
    if (!has) {
        m_detailTitle->clear();
        badge->setStatus({});
        m_json->clear();
        currentChanged(Json());
        return;
    }
    const QString name = currentName();
    m_detailTitle->setText(name);
    const int row = m_model->rowOf(name);
    const QModelIndex idx = m_model->index(row, 0);
    badge->setStatus(idx.data(models::StatusRole).toString(), idx.data(models::ReasonRole).toString());
    for (const auto &[label, value] : keyFields(object)) {
        auto *v = new QLabel(value, m_detail);
        v->setTextInteractionFlags(Qt::TextSelectableByMouse | Qt::TextSelectableByKeyboard);
        v->setWordWrap(true);
        m_detailForm->addRow(label, v);
    }
    m_json->setPlainText(prettyJson(shownJson(object)));
    currentChanged(object);
}

void ResourceView::showError(const QString &message)
{
    m_messages->showMessage(MessageBar::Kind::Error, message);
}

void ResourceView::showInfo(const QString &message)
{
    m_messages->showMessage(MessageBar::Kind::Success, message);
}

void ResourceView::applyAndSelect(const Json &object)
{
    if (!object.is_object())
        return;
    // The live feed may already have delivered a newer state (e.g. READY before this CREATING answer arrived):
    // the answer only fills in a row the model does not have yet, it never rolls one back.
    const QString name = jsonString(object, "name");
    if (m_model->rowOf(name) < 0)
        m_model->applyObject(object);
    m_filter->clear();
    selectName(jsonString(object, "name"));
}

void ResourceView::deleteNames(const QStringList &names, bool confirm)
{
    if (names.isEmpty())
        return;
    if (confirm) {
        QMap<QString, QStringList> deps;
        for (const QString &n : names)
            deps.insert(n, dependantsOf(n));
        DeleteDialog dialog(names.size() == 1 ? m_singular : m_plural, names, deps, m_workspace->contextName(), this);
        if (dialog.exec() != QDialog::Accepted)
            return;
    }
    struct Tally
    {
        int pending = 0;
        QStringList done;
        QStringList failed;
    };
    auto tally = std::make_shared<Tally>();
    tally->pending = static_cast<int>(names.size());
    for (const QString &name : names) {
        m_workspace->client()->del(m_model->itemPath(name), this, [this, tally, name](const models::ApiResult &r) {
            if (r.ok()) {
                tally->done << name;
                // DELETING: shown until the feed says it is gone, but a row the feed already removed stays removed.
                const QString status = jsonString(r.json, "status");
                if (!status.isEmpty() && status != QLatin1String("DELETED")) {
                    if (m_model->rowOf(name) >= 0)
                        m_model->applyObject(r.json);
                } else {
                    m_model->applyDeleted(name);
                }
            } else {
                tally->failed << tr("%1: %2").arg(name, r.errorMessage);
            }
            if (--tally->pending > 0)
                return;
            if (!tally->failed.isEmpty())
                showError(tr("Could not delete %1").arg(tally->failed.join(QStringLiteral("; "))));
            else
                showInfo(tally->done.size() == 1 ? tr("Deleted %1 %2.").arg(m_singular, tally->done.first())
                                                 : tr("Deleted %1 %2.").arg(tally->done.size()).arg(m_plural));
            m_model->refresh();
        });
    }
}

void ResourceView::createItem()
{
    openForm(nlohmann::json());
}

void ResourceView::editItem()
{
    const nlohmann::json o = currentObject();
    if (o.is_object())
        openForm(o);
}

} // namespace dispatch::views
