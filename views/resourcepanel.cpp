// SPDX-License-Identifier: GPL-3.0-or-later
#include "resourcepanel.h"

#include "resourceview.h"

#include <QLabel>
#include <QLineEdit>
#include <QTabWidget>
#include <QVBoxLayout>

namespace dispatch::views {

QWidget *makePanelHeading(const QString &title, const QString &subtitle, QWidget *parent)
{
    auto *w = new QWidget(parent);
    auto *l = new QVBoxLayout(w);
    l->setContentsMargins(0, 0, 0, 4);
    l->setSpacing(0);
    auto *t = new QLabel(title, w);
    t->setObjectName(QStringLiteral("panelTitle"));
    QFont f = t->font();
    f.setPointSizeF(f.pointSizeF() * 1.45);
    f.setBold(true);
    t->setFont(f);
    l->addWidget(t);
    if (!subtitle.isEmpty()) {
        auto *s = new QLabel(subtitle, w);
        s->setObjectName(QStringLiteral("panelSubtitle"));
        s->setWordWrap(true);
        s->setForegroundRole(QPalette::PlaceholderText);
        l->addWidget(s);
    }
    return w;
}

ResourcePanel::ResourcePanel(const QString &title, const QString &subtitle, Workspace *workspace, QWidget *parent)
    : Panel(parent), m_title(title), m_workspace(workspace)
{
    m_layout = new QVBoxLayout(this);
    m_layout->setContentsMargins(12, 10, 12, 8);
    m_header = new QVBoxLayout;
    m_header->addWidget(makePanelHeading(title, subtitle, this));
    m_layout->addLayout(m_header);
}

void ResourcePanel::addView(ResourceView *view, const QString &tabTitle)
{
    m_views.append(view);
    view->setProperty("tabTitle", tabTitle);
    if (m_views.size() == 1) {
        m_layout->addWidget(view, 1);
        return;
    }
    if (!m_tabs) {
        // The second view turns the panel into tabs: move the first one in.
        m_tabs = new QTabWidget(this);
        m_tabs->setObjectName(QStringLiteral("panelTabs"));
        m_tabs->setDocumentMode(true);
        m_layout->removeWidget(m_views.first());
        m_tabs->addTab(m_views.first(), m_views.first()->property("tabTitle").toString());
        m_layout->addWidget(m_tabs, 1);
    }
    m_tabs->addTab(view, tabTitle);
}

QLineEdit *ResourcePanel::filterEdit() const
{
    ResourceView *v = currentView();
    return v ? v->filterEdit() : nullptr;
}

ResourceView *ResourcePanel::currentView() const
{
    if (m_tabs)
        return qobject_cast<ResourceView *>(m_tabs->currentWidget());
    return m_views.value(0);
}

void ResourcePanel::showView(int index)
{
    if (m_tabs)
        m_tabs->setCurrentIndex(index);
}

} // namespace dispatch::views
